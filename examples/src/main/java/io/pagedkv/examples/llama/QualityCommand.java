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
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pagedkv quality}: the policy-quality table on a real model, every eviction policy at
 * several budgets against the full cache ({@link PolicyQuality}). Not thread-safe; one per run.
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "Eviction policies on a real llama2.c model: next-token agreement, KL divergence and attention-mass"
                + " recall against the full cache, per budget.")
public final class QualityCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin)")
    Path model;

    @Option(names = "--budgets", split = ",", defaultValue = "16,32,64", description = "token budgets (default: ${DEFAULT-VALUE})")
    int[] budgets;

    @Option(names = "--rotary", split = ",", defaultValue = "original",
            description = "rotary modes: original (keys at their stream positions), cache (StreamingLLM: places in the cache)")
    RotaryMode[] rotary;

    @Option(names = "--steps", defaultValue = "0", description = "positions decoded from BOS (0 = the model's context length)")
    int steps;

    /** The policies of the table: every {@link StandardPolicy} but H2O's NORM_SUM variant, each built for a token budget. */
    static List<IntFunction<EvictionPolicy>> policies() {
        List<IntFunction<EvictionPolicy>> list = new ArrayList<>();
        for (StandardPolicy p : StandardPolicy.values()) {
            if (p != StandardPolicy.H2O_NORM) {
                list.add(p::create);
            }
        }
        return list;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isReadable(model)) {
            err.println("--model: " + model + " (expected: a readable llama2.c checkpoint)");
            return 2;
        }
        LlamaWeights w = CheckpointReader.read(model);
        int n = steps == 0 ? w.config().seqLen() : steps;
        if (n > w.config().seqLen() || n <= 0) {
            err.println("--steps: " + n + " (expected: 1 <= steps <= " + w.config().seqLen() + ")");
            return 2;
        }
        for (int b : budgets) {
            if (b < StandardPolicy.MIN_BUDGET || b >= n) {
                err.println("--budgets: " + b + " (expected: " + StandardPolicy.MIN_BUDGET + " <= budget < steps " + n + ")");
                return 2;
            }
        }
        out.printf(Locale.ROOT, "%s, %d steps greedy from BOS%n", model.getFileName(), n);
        out.printf(Locale.ROOT, "| %-32s | %-8s | %6s | %5s | %9s | %8s | %7s |%n", "policy", "rotary", "budget", "steps",
                "agreement", "KL nats", "recall");
        out.println("|----------------------------------|----------|--------|-------|-----------|----------|---------|");
        for (int b : budgets) {
            for (IntFunction<EvictionPolicy> p : policies()) {
                for (RotaryMode mode : rotary) {
                    PolicyQuality.Row r = PolicyQuality.measure(w, p, b, n, mode);
                    out.printf(Locale.ROOT, "| %-32s | %-8s | %6d | %5d | %8.1f%% | %8.4f | %6.1f%% |%n", r.policy(),
                            mode.name().toLowerCase(Locale.ROOT), r.budget(), r.steps(), 100 * r.agreement(), r.meanKl(),
                            100 * r.recall());
                    out.flush();
                }
            }
        }
        return 0;
    }
}
