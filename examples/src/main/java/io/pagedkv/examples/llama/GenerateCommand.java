package io.pagedkv.examples.llama;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

    @Option(names = "--steps", defaultValue = "0", description = "forward passes, prompt included (0 = the model's context length)")
    int steps;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy, otherwise seeded sampling")
    float temperature;

    @Option(names = "--seed", defaultValue = "42", description = "sampling seed")
    long seed;

    @Option(names = "--ids", description = "print token ids instead of text")
    boolean ids;

    @Option(names = "--cache", defaultValue = "contiguous", description = "where K/V live: ${COMPLETION-CANDIDATES}")
    CacheKind cache;

    /** Where the decoder keeps its keys and values. */
    public enum CacheKind {
        /** Plain arrays, reserved for the whole context. */
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
        if (n < promptIds.length || n > c.seqLen()) {
            err.println("--steps: " + n + " (expected: prompt length " + promptIds.length + " <= steps <= context "
                    + c.seqLen() + ")");
            return 2;
        }
        boolean text = tok != null && !ids;
        try (KvStore store = newStore(c)) {
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
        return 0;
    }

    private KvStore newStore(LlamaConfig c) {
        return switch (cache) {
            case contiguous -> new ContiguousKvStore(c, c.seqLen());
        };
    }
}
