package io.pagedkv.examples.llama;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.StandardPolicy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pagedkv generate}: decodes from a llama2.c checkpoint, greedy or seeded sampling, printing
 * the text (or the token ids) and then the cache statistics. Not thread-safe; one per run.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Decode text from a llama2.c checkpoint through the KV cache, then print cache statistics.")
public final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin)")
    Path model;

    @Option(names = "--tokenizer", description = "llama2.c tokenizer (.bin); without it, token ids are printed")
    Path tokenizer;

    @Option(names = "--prompt", defaultValue = "", description = "prompt text (needs --tokenizer); default: start from BOS")
    String prompt;

    @Option(names = "--steps", defaultValue = "0", description = "forward passes, prompt included (0 = the model's context"
            + " length; any number with --policy: the cache stays within --budget)")
    int steps;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy, otherwise seeded sampling")
    float temperature;

    @Option(names = "--seed", defaultValue = "42", description = "sampling seed")
    long seed;

    @Option(names = "--ids", description = "print token ids instead of text")
    boolean ids;

    @Option(names = "--cache", defaultValue = "paged", description = "where K/V live: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    CacheKind cache;

    @Option(names = "--kv-dtype", defaultValue = "f32", description = "paged cache dtype: f32, f16, bf16, fp8_e4m3, fp8_e5m2, q8_0, q4_0")
    String kvDtype;

    @Option(names = "--block-size", defaultValue = "16", description = "tokens per block of the paged cache")
    int blockSize;

    @Option(names = "--compare", description = "also decode greedily with a contiguous f32 cache in lockstep and report the"
            + " first step whose token differs and the largest relative logit error")
    boolean compare;

    @Option(names = "--policy", defaultValue = "none", description = "eviction policy of the paged cache:"
            + " ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}); needs --budget")
    PolicyKind policy;

    @Option(names = "--budget", description = "tokens the eviction policy keeps (>= " + MIN_BUDGET + "); a longer prompt is"
            + " prefilled in chunks with evictions between them")
    Integer budget;

    @Option(names = "--rotary", defaultValue = "original", description = "with --policy, where cached keys are rotated:"
            + " original (their stream positions) or cache (StreamingLLM: their places in the cache, re-rotated in place)"
            + " (default: ${DEFAULT-VALUE})")
    RotaryMode rotary;

    /** Smallest {@code --budget} accepted. */
    public static final int MIN_BUDGET = 8;

    /** The eviction policies {@code --policy} names, each built for a token budget. */
    public enum PolicyKind {
        /** Keep every token (no budget). */
        none,
        /** The most recent tokens. */
        window,
        /** StreamingLLM: the first tokens plus the most recent. */
        sinks,
        /** H2O: heavy hitters by accumulated attention (half the budget) plus the most recent. */
        h2o,
        /** TOVA: drop the token with the least attention from the newest query. */
        tova,
        /** Keep the keys of smallest L2 norm, with sinks and a recent window. */
        knorm,
        /** KeyDiff: keep the most distinctive keys. */
        keydiff,
        /** LagKV: score keys and values against the next partition. */
        lagkv,
        /** Random victims: the baseline. */
        random;

        /** A fresh policy keeping {@code budget} tokens ({@link StandardPolicy}); throws IllegalArgumentException if it cannot. */
        public EvictionPolicy build(int budget) {
            if (this == none) {
                throw new IllegalArgumentException("policy: none (expected: an evicting policy)");
            }
            return StandardPolicy.parse(name()).create(budget);
        }
    }

    /** Where the decoder keeps its keys and values. */
    public enum CacheKind {
        /** pagedkv: blocks of a paged off-heap pool, attention by PagedAttention. */
        paged,
        /** Plain float arrays reserved for the whole context, textbook attention. */
        contiguous
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isReadable(model)) {
            err.println("--model: " + model + " (expected: a readable llama2.c checkpoint)");
            return 2;
        }
        LlamaWeights weights = CheckpointReader.read(model);
        LlamaConfig c = weights.config();
        Tokenizer tok = tokenizer == null ? null : Tokenizer.read(tokenizer, c.vocabSize());
        if (tok == null && !prompt.isEmpty()) {
            err.println("--prompt: needs --tokenizer to encode the text");
            return 2;
        }
        int[] promptIds = tok == null ? new int[] {Tokenizer.BOS} : tok.encode(prompt, true);
        int n = steps == 0 ? c.seqLen() : steps;
        boolean streaming = policy != PolicyKind.none || budget != null;
        if (n < promptIds.length || (n > c.seqLen() && !streaming)) {
            err.println("--steps: " + n + " (expected: prompt length " + promptIds.length + " <= steps <= context "
                    + c.seqLen() + "; more with --policy and --budget)");
            return 2;
        }
        if (compare && n > c.seqLen()) {
            err.println("--compare: with --steps " + n + " (expected: steps <= context " + c.seqLen() + "; the lockstep"
                    + " reference has no eviction)");
            return 2;
        }
        KvDType dtype;
        try {
            dtype = KvDType.parse(kvDtype);
            new CacheLayout(c.shape("check"), dtype, blockSize);
        } catch (IllegalArgumentException e) {
            err.println("--kv-dtype/--block-size: " + e.getMessage());
            return 2;
        }
        EvictionPolicy evictor = null;
        if (policy != PolicyKind.none || budget != null) {
            if (budget == null) {
                err.println("--policy: " + policy + " (expected: with --budget N)");
                return 2;
            }
            if (policy == PolicyKind.none) {
                err.println("--budget: " + budget + " (expected: with --policy window|sinks|h2o|tova|knorm|keydiff|lagkv|random)");
                return 2;
            }
            if (cache != CacheKind.paged) {
                err.println("--cache: " + cache + " (expected: paged with --policy)");
                return 2;
            }
            if (budget < MIN_BUDGET) {
                err.println("--budget: " + budget + " (expected: >= " + MIN_BUDGET + ")");
                return 2;
            }
            try {
                evictor = policy.build(budget);
            } catch (IllegalArgumentException e) {
                err.println("--budget: " + budget + " (expected: enough for policy " + policy + ": " + e.getMessage() + ")");
                return 2;
            }
        }
        boolean text = tok != null && !ids;
        try (KvStore store = evictor == null ? newStore(c, dtype)
                : new EvictingKvStore(c, dtype, blockSize, n, evictor, rotary)) {
            LlamaDecoder decoder = new LlamaDecoder(weights, store);
            Sampler sampler = new Sampler(c.vocabSize(), temperature, seed);
            if (text) {
                out.print(tok.decode(Tokenizer.BOS, Arrays.copyOfRange(promptIds, 1, promptIds.length)));
            }
            int[] prev = {promptIds[promptIds.length - 1]};
            long start = System.nanoTime();
            int[] all = Generation.run(decoder, sampler, promptIds, n, true, id -> {
                if (text) {
                    out.print(tok.decode(prev[0], id));
                    prev[0] = id;
                } else {
                    out.print(id);
                    out.print(' ');
                }
                out.flush();
            });
            long ns = System.nanoTime() - start;
            out.println();
            out.printf("%d tokens (%d prompt, %d generated) in %.1f ms, %.0f tok/s%n", store.length(),
                    promptIds.length, all.length - promptIds.length, ns / 1e6, store.length() / (ns / 1e9));
            out.println(store.statistics());
        }
        if (compare) {
            try (KvStore ref = new ContiguousKvStore(c, c.seqLen()); KvStore cand = newStore(c, dtype)) {
                Lockstep.Result r = Lockstep.run(new LlamaDecoder(weights, ref), new LlamaDecoder(weights, cand), n);
                out.printf(Locale.ROOT, "lockstep vs contiguous f32 over %d greedy steps: %s, max relative logit error %.3g%n",
                        r.steps(), r.identical() ? "identical tokens" : "first divergence at step " + r.firstDivergence(),
                        r.maxRelativeError());
            }
        }
        return 0;
    }

    private KvStore newStore(LlamaConfig c, KvDType dtype) {
        return switch (cache) {
            case paged -> new PagedKvStore(c, dtype, blockSize, c.seqLen());
            case contiguous -> new ContiguousKvStore(c, c.seqLen());
        };
    }
}
