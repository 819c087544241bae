package io.pagedkv.examples.llama;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.StandardPolicy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pagedkv quality}: the policy-quality table on a real model, every eviction policy at several
 * budgets against the full cache, over many prompts, through the paged evicting path ({@link
 * PromptQuality}), each figure a mean over prompts with its 95% interval; beside the shared-decision
 * rows, the per-layer line-up ({@link io.pagedkv.eviction.LayerPolicy}: per-layer H2O and TOVA, SnapKV,
 * PyramidKV) through a {@link LayerwiseKvStore}. Not thread-safe; one per run.
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "Eviction policies on a real llama2.c model over many prompts, through the paged evicting cache:"
                + " next-token agreement, KL divergence and attention-mass recall against the full cache, per budget,"
                + " mean and 95% interval over prompts; shared-decision policies and per-layer ones (per-layer H2O, TOVA,"
                + " SnapKV, PyramidKV).")
public final class QualityCommand implements Callable<Integer> {

    /** Where prompts come from. */
    public enum Source {
        /** Sentence-aligned runs of the stored KJV text ({@link EvalText}), encoded with {@code --tokenizer}. */
        text,
        /** The full model's own samples from BOS (temperature 1, seeds 1..N): in-distribution text, no tokenizer needed. */
        sampled
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin)")
    Path model;

    @Option(names = "--tokenizer", description = "the model's tokenizer (.bin), for --source text")
    Path tokenizer;

    @Option(names = "--source", defaultValue = "text", description = "prompts: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    Source source;

    @Option(names = "--prompts", defaultValue = "64", description = "prompts (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--length", defaultValue = "0", description = "tokens per prompt, BOS included (0 = the model's context)")
    int length;

    @Option(names = "--budgets", split = ",", defaultValue = "16,32,64", description = "token budgets (default: ${DEFAULT-VALUE})")
    int[] budgets;

    @Option(names = "--rotary", split = ",", defaultValue = "original",
            description = "rotary modes: original (keys at their stream positions), cache (StreamingLLM: places in the cache)")
    RotaryMode[] rotary;

    @Option(names = "--policies", split = ",", description = "policies (default: every standard policy but h2o-norm)")
    List<String> policies;

    @Option(names = "--layer-policies", split = ",", defaultValue = "h2o-layer,tova-layer,snapkv,pyramidkv",
            description = "per-layer policies (one policy per layer, each freeing its layer's memory; rotary original"
                    + " only), or none (default: ${DEFAULT-VALUE})")
    List<String> layerPolicies;

    @Option(names = "--threads", defaultValue = "1", description = "rows computed at once (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--baseline", defaultValue = "window", description = "the policy the paired differences are taken"
            + " against, on the same prompts, budget and rotary mode (default: ${DEFAULT-VALUE})")
    String baseline;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isReadable(model)) {
            err.println("--model: " + model + " (expected: a readable llama2.c checkpoint)");
            return 2;
        }
        LlamaWeights w = CheckpointReader.read(model);
        if (source == Source.text && (tokenizer == null || !Files.isReadable(tokenizer))) {
            err.println("--tokenizer: " + tokenizer + " (expected: the model's readable tokenizer, for --source text)");
            return 2;
        }
        int n = length == 0 ? w.config().seqLen() : length;
        if (n < 2 || n > w.config().seqLen()) {
            err.println("--length: " + n + " (expected: 2 <= length <= context " + w.config().seqLen() + ")");
            return 2;
        }
        if (prompts < 2 || threads < 1) {
            err.println("--prompts, --threads: " + prompts + ", " + threads + " (expected: >= 2 prompts, an interval needs two;"
                    + " >= 1 thread)");
            return 2;
        }
        for (int b : budgets) {
            if (b < StandardPolicy.MIN_BUDGET || b >= n) {
                err.println("--budgets: " + b + " (expected: " + StandardPolicy.MIN_BUDGET + " <= budget < length " + n + ")");
                return 2;
            }
        }
        List<IntFunction<EvictionPolicy>> line = new ArrayList<>();
        StandardPolicy base;
        try {
            base = StandardPolicy.parse(baseline);
        } catch (IllegalArgumentException e) {
            err.println("--baseline: " + e.getMessage());
            return 2;
        }
        line.add(base::create); // first, so every row has its baseline when it is printed
        List<StandardPolicy> named = new ArrayList<>();
        if (policies == null) {
            for (StandardPolicy p : StandardPolicy.values()) {
                if (p != StandardPolicy.H2O_NORM) {
                    named.add(p);
                }
            }
        } else {
            for (String name : policies) {
                try {
                    named.add(StandardPolicy.parse(name));
                } catch (IllegalArgumentException e) {
                    err.println("--policies: " + e.getMessage());
                    return 2;
                }
            }
        }
        for (StandardPolicy p : named) {
            if (p != base) {
                line.add(p::create);
            }
        }
        List<io.pagedkv.eviction.LayerPolicy> layered = new ArrayList<>();
        for (String name : layerPolicies) {
            if (name.equalsIgnoreCase("none")) {
                continue;
            }
            try {
                layered.add(io.pagedkv.eviction.LayerPolicy.parse(name));
            } catch (IllegalArgumentException e) {
                err.println("--layer-policies: " + e.getMessage());
                return 2;
            }
        }
        List<int[]> ids;
        try {
            ids = source == Source.text ? EvalText.prompts(Tokenizer.read(tokenizer, w.config().vocabSize()), prompts, n)
                    : sampledPrompts(w, prompts, n);
        } catch (IllegalArgumentException e) {
            err.println("--prompts: " + e.getMessage());
            return 2;
        }
        List<PromptQuality.Reference> refs = PromptQuality.references(w, ids);
        out.printf(Locale.ROOT, "%s, %d prompts of %d tokens (%s), teacher-forced; paged evicting f32 cache, blocks of %d;"
                + " mean over prompts [95%% interval]%n", model.getFileName(), prompts, n,
                source == Source.text ? "KJV Genesis, " + EvalText.RESOURCE : "the model's samples, seeds 1.." + prompts,
                PromptQuality.BLOCK_SIZE);
        String delta = "KL - " + base.label() + " (paired)";
        out.printf(Locale.ROOT, "| %-30s | %-8s | %6s | %6s | %-24s | %-27s | %-30s | %-24s |%n", "policy", "rotary", "budget",
                "steps", "agreement", "KL nats", delta, "recall");
        out.println("|--------------------------------|----------|-------:|-------:|--------------------------|"
                + "-----------------------------|--------------------------------|--------------------------|");
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            // per budget: the shared line-up in every rotary mode (the baseline first), then the per-layer
            // line-up (original positions only), each paired against the baseline of its budget and mode
            List<Future<PromptQuality.Row>> rows = new ArrayList<>();
            List<Boolean> isBaseline = new ArrayList<>();
            for (int b : budgets) {
                for (int i = 0; i < line.size(); i++) {
                    IntFunction<EvictionPolicy> p = line.get(i);
                    for (RotaryMode mode : rotary) {
                        rows.add(pool.submit(() -> PromptQuality.measure(w, refs, p, b, mode)));
                        isBaseline.add(i == 0);
                    }
                }
                if (java.util.Arrays.asList(rotary).contains(RotaryMode.ORIGINAL)) {
                    for (io.pagedkv.eviction.LayerPolicy lp : layered) {
                        rows.add(pool.submit(() -> PromptQuality.measureLayered(w, refs, lp, b)));
                        isBaseline.add(false);
                    }
                }
            }
            java.util.Map<String, PromptQuality.Row> baselines = new java.util.HashMap<>();
            for (int i = 0; i < rows.size(); i++) {
                PromptQuality.Row r = rows.get(i).get();
                String key = r.budget() + "/" + r.mode();
                if (isBaseline.get(i)) {
                    baselines.put(key, r);
                }
                String paired = isBaseline.get(i) ? "(the baseline)" : signed(r.klMinus(baselines.get(key)));
                out.printf(Locale.ROOT, "| %-30s | %-8s | %6d | %6d | %-24s | %-27s | %-30s | %-24s |%n", r.policy(),
                        r.mode().name().toLowerCase(Locale.ROOT), r.budget(), r.steps(), percent(r.agreement()),
                        nats(r.kl()), paired, percent(r.recall()));
                out.flush();
            }
        } finally {
            pool.shutdownNow();
        }
        return 0;
    }

    private static String percent(MeanInterval m) {
        return String.format(Locale.ROOT, "%5.1f%% [%5.1f, %5.1f]", 100 * m.mean(), 100 * m.low(), 100 * m.high());
    }

    private static String signed(MeanInterval m) {
        return String.format(Locale.ROOT, "%+.4f [%+.4f, %+.4f]", m.mean(), m.low(), m.high());
    }

    private static String nats(MeanInterval m) {
        return String.format(Locale.ROOT, "%.4f [%.4f, %.4f]", m.mean(), m.low(), m.high());
    }

    /** {@code count} samples of {@code length} tokens from BOS by the full model, temperature 1, seeds 1..count. */
    static List<int[]> sampledPrompts(LlamaWeights w, int count, int length) {
        List<int[]> out = new ArrayList<>(count);
        LlamaConfig c = w.config();
        for (int i = 1; i <= count; i++) {
            try (KvStore s = new ContiguousKvStore(c, length)) {
                int[] ids = Generation.run(new LlamaDecoder(w, s), new Sampler(c.vocabSize(), 1f, i),
                        new int[] {Tokenizer.BOS}, length, false, id -> { });
                out.add(java.util.Arrays.copyOf(ids, length));
            }
        }
        return out;
    }
}
