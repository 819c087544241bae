package io.pagedkv.examples.simulate;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.model.ModelSource;
import io.pagedkv.plan.ByteSize;
import io.pagedkv.workload.Workload;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pagedkv simulate}: replays a request trace into a fixed KV memory under paged and contiguous
 * allocation and prints the comparison (or JSON), optionally with a chart. Not thread-safe; one per
 * invocation.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Simulate an inference server: a trace of requests, a fixed KV memory, continuous batching,",
            "under pagedkv blocks and contiguous reservation; prints concurrency, memory used vs reserved,",
            "waste, preemptions and prefix reuse side by side."})
public final class SimulateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", defaultValue = "llama-3.1-8b",
            description = "A preset name, or a config.json, .gguf or llama2.c .bin file (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--memory", defaultValue = "4GiB", description = "KV cache memory budget, e.g. 24GiB (default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--kv-dtype", defaultValue = "q8_0", description = "KV storage type: f32, f16, bf16, fp8, q8_0, q4_0 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--workload", defaultValue = "sharegpt", description = "sharegpt, alpaca or agent (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--requests", defaultValue = "1000", description = "Requests in the trace (default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--policy", defaultValue = "none", description = "Eviction policy: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    EvictionChoice policy;

    @Option(names = "--kv-budget", defaultValue = "256",
            description = "Tokens a request keeps under --policy window|sinks|h2o (default: ${DEFAULT-VALUE}).")
    int kvBudget;

    @Option(names = "--block-size", defaultValue = "16", description = "Tokens per block (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--seed", defaultValue = "1", description = "Trace seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-context", defaultValue = "0",
            description = "Tokens a contiguous cache reserves per request (default: the workload's context).")
    int maxContext;

    @Option(names = "--host-tier", defaultValue = "0",
            description = "Also run paged over a host-memory tier of this size, e.g. 8GiB: reclaimed prefix blocks are"
                    + " offloaded there and restored on a prefix miss (default: none).")
    String hostTier;

    @Option(names = "--prefill-budget", defaultValue = "0",
            description = "Prompt tokens computed per step; admission waits for earlier prompts' tokens, cached ones cost"
                    + " nothing (default: 0, prefill is free and memory alone limits concurrency).")
    int prefillBudget;

    @Option(names = "--json", description = "Print the figures as JSON instead of the table.")
    boolean json;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Also draw concurrency and memory over time as a PNG.")
    File chart;

    @Override
    public Integer call() throws IOException {
        SimulationConfig config = config();
        PrintStream err = System.err;
        boolean terminal = ProgressBar.isTerminal();
        ProgressBar[] current = new ProgressBar[1];
        SimulationComparison comparison = SimulationComparison.run(config, hostTierBytes(config), prefillBudget(), name -> {
            if (current[0] != null) {
                current[0].finish();
            }
            current[0] = new ProgressBar(err, name, terminal);
            return current[0];
        });
        if (current[0] != null) {
            current[0].finish();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            SimulationJson.write(comparison, out);
            out.flush();
        } else {
            SimulationReport.print(comparison, out);
        }
        if (chart != null) {
            SimulationChart.write(config.model().name() + " " + config.dtype() + ", " + SimulationReport.gib(config.memoryBytes())
                    + " KV, " + config.workload() + " x" + config.requests(), comparison.results(), chart, 1100, 750);
            if (!json) {
                out.println("chart: " + chart.getPath());
                out.flush();
            }
        }
        return 0;
    }

    /** The per-step prefill budget, or a {@link CommandLine.ParameterException} naming the bad value. */
    int prefillBudget() {
        if (prefillBudget < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "simulate: prefill-budget: " + prefillBudget
                    + " (expected: >= 0 tokens per step, 0 for free prefill)");
        }
        return prefillBudget;
    }

    /** The host tier's bytes, or a {@link CommandLine.ParameterException} naming the bad value. */
    long hostTierBytes(SimulationConfig config) {
        try {
            long bytes = hostTier.equals("0") ? 0 : ByteSize.parse(hostTier).bytes();
            if (bytes > 0 && config.policy() != EvictionChoice.NONE) {
                throw new IllegalArgumentException("host-tier: " + hostTier + " with --policy " + config.policy().label()
                        + " (expected: no policy: the tier holds prefix blocks)");
            }
            if (bytes > 0 && bytes < config.layout().bytesPerBlock()) {
                throw new IllegalArgumentException("host-tier: " + hostTier + " (expected: at least one block, "
                        + config.layout().bytesPerBlock() + " bytes)");
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "simulate: " + e.getMessage(), e);
        }
    }

    /** The validated configuration, or a {@link CommandLine.ParameterException} naming the bad flag. */
    SimulationConfig config() {
        try {
            ModelShape shape = ModelSource.resolve(model);
            KvDType kv = KvDType.parse(dtype);
            Workload w = Workload.parse(workload);
            long bytes = ByteSize.parse(memory).bytes();
            if (maxContext < 0) {
                throw new IllegalArgumentException("max-context: " + maxContext + " (expected: >= 0, 0 for the workload's)");
            }
            int context = maxContext == 0 ? w.defaultMaxContext() : maxContext;
            return new SimulationConfig(shape, kv, bytes, w, requests, blockSize, seed, context, policy, kvBudget);
        } catch (IllegalArgumentException | IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "simulate: " + e.getMessage(), e);
        }
    }
}
