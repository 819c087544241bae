package io.pagedkv.examples.evict;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.harness.Harness;
import io.pagedkv.eviction.harness.PolicyResult;
import io.pagedkv.eviction.harness.ResultTable;
import io.pagedkv.eviction.harness.SyntheticTrace;
import io.pagedkv.eviction.harness.TraceKind;
import io.pagedkv.eviction.harness.TraceSpec;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.model.ModelShape;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pagedkv evict}: replays seeded synthetic attention traces through the eviction policies side
 * by side and prints the harness table (recall, oracle, top-10 recall, output error, memory kept,
 * blocks freed, bytes copied), optionally writing CSV: the shared-decision policies, the per-head
 * H2O reference, and the per-layer line-up (per-layer H2O and TOVA, SnapKV, PyramidKV) over the trace's
 * {@code --layers}. Not thread-safe; one per invocation.
 */
@Command(name = "evict", mixinStandardHelpOptions = true,
        description = {"Compare eviction policies (window, sinks+recent, H2O, TOVA, key norm, KeyDiff, LagKV, random,"
            + " per-head H2O reference; per layer: H2O, TOVA, SnapKV, PyramidKV)",
            "on seeded synthetic attention traces against a shadow full cache; print the table, optionally CSV."})
public final class EvictCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--trace", defaultValue = "all",
            description = "sinks, power-law, recency, needle, uniform or all (default: ${DEFAULT-VALUE}).")
    String trace;

    @Option(names = "--prompt", defaultValue = "2048", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
    int prompt;

    @Option(names = "--decode", defaultValue = "512", description = "Decode steps measured (default: ${DEFAULT-VALUE}).")
    int decode;

    @Option(names = "--budget", defaultValue = "0.2",
            description = "Token budget as a fraction of the prompt (default: ${DEFAULT-VALUE}).")
    double budget;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads in the trace (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--layers", defaultValue = "1", description = "Attention layers in the trace, each with its own rows"
            + " (default: ${DEFAULT-VALUE}; with 1 the per-layer rows equal their shared counterparts).")
    int layers;

    @Option(names = "--seed", defaultValue = "42", description = "Trace seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model", defaultValue = "llama-3.1-8b",
            description = "Model shape for the byte columns (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--kv-dtype", defaultValue = "f16", description = "KV storage type for the byte columns (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--block-size", defaultValue = "16", description = "Tokens per block (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--csv", paramLabel = "FILE.csv", description = "Also write the results as CSV.")
    Path csv;

    @Override
    public Integer call() throws IOException {
        List<TraceKind> kinds = new ArrayList<>();
        CacheLayout layout;
        int budgetTokens;
        try {
            if (trace.equalsIgnoreCase("all")) {
                kinds.addAll(List.of(TraceKind.values()));
            } else {
                kinds.add(TraceKind.parse(trace));
            }
            if (!(budget > 0 && budget <= 1)) {
                throw new IllegalArgumentException("budget: " + budget + " (expected: 0 < budget <= 1, a fraction of the prompt)");
            }
            budgetTokens = (int) Math.round(prompt * budget);
            if (budgetTokens < 8) {
                throw new IllegalArgumentException("budget: " + budget + " of " + prompt + " prompt tokens is " + budgetTokens
                        + " tokens (expected: >= 8)");
            }
            ModelShape shape = ModelPresets.byName(model);
            layout = new CacheLayout(shape, KvDType.parse(dtype), blockSize);
            new TraceSpec(kinds.get(0), prompt, decode, heads, 16, seed, layers);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "evict: " + e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("prompt %d + decode %d tokens, budget %d tokens (%.0f%% of the prompt, per layer for the per-layer rows),"
                + " %d layer(s) of %d heads, seed %d, %s %s: %d bytes/token, block %d tokens%n", prompt, decode, budgetTokens,
                budget * 100, layers, heads, seed,
                layout.shape().name(), layout.dtype().label(), layout.bytesPerToken(), blockSize);
        StringBuilder csvText = new StringBuilder(ResultTable.CSV_HEADER).append('\n');
        boolean first = true;
        for (TraceKind kind : kinds) {
            SyntheticTrace t = new SyntheticTrace(new TraceSpec(kind, prompt, decode, heads, 16, seed, layers));
            List<PolicyResult> results = Harness.run(t, Harness.standardPolicies(budgetTokens),
                    Harness.perHeadReference(budgetTokens), Harness.layerPolicies(budgetTokens, layers), layout.bytesPerToken(),
                    blockSize);
            String table = ResultTable.text(kind.label(), results);
            out.print(first ? table : table.substring(table.indexOf('\n') + 1));
            out.flush();
            first = false;
            csvText.append(ResultTable.csvRows(kind.label(), results));
        }
        if (csv != null) {
            Files.writeString(csv, csvText.toString(), StandardCharsets.UTF_8);
            out.println("csv: " + csv);
            out.flush();
        }
        return 0;
    }
}
