package io.pagedkv.benchmarks.fragmentation;

import io.pagedkv.plan.ByteSize;
import io.pagedkv.examples.simulate.KvAllocationStrategy;
import io.pagedkv.examples.simulate.ServingSimulator;
import io.pagedkv.examples.simulate.SimulationResult;
import io.pagedkv.workload.Trace;
import io.pagedkv.workload.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link FragmentationBenchmark} through JMH's Runner (fail on error), turns its summed counts
 * into ratios, prints the Markdown tables for {@code benchmarks/RESULTS.md} and draws the ShareGPT
 * memory-utilisation chart.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar
 * io.pagedkv.benchmarks.fragmentation.FragmentationResults [--short] [--out DIR]}. {@code --short}
 * replays 200-request traces with one 100 ms iteration and no warmup (a CI smoke in well under a
 * minute); the default (full) replays 1000-request traces, one warmup and two measured iterations.
 */
public final class FragmentationResults {

    private static final String[] ALLOCATORS = {"contiguous-max", "first-fit", "paged-8", "paged-16", "paged-32"};

    private FragmentationResults() {
    }

    /**
     * Runs the benchmark and writes the tables to stdout and to {@code fragmentation.md} (or {@code
     * fragmentation-short.md}), and the chart, in {@code --out} (default {@code benchmarks/results}).
     */
    public static void main(String[] args) throws RunnerException, IOException {
        boolean quick = false;
        Path out = Path.of("benchmarks", "results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--short" -> quick = true;
                case "--full" -> quick = false;
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("argument: '" + args[i] + "' (expected --short, --full or --out DIR)");
            }
        }
        int requests = quick ? 200 : 1000;
        Collection<RunResult> results = new Runner(options(quick, requests, 1).build()).run();
        PrintStream p = System.out;
        String md = markdown(results, quick, requests);
        p.println(md);
        Files.createDirectories(out);
        Files.writeString(out.resolve(quick ? "fragmentation-short.md" : "fragmentation.md"), md);
        Path png = out.resolve("fragmentation-sharegpt-utilisation.png");
        utilisationChart(requests, png);
        p.println("chart: " + png);
    }

    /** JMH options for the fragmentation benchmark: fork count {@code forks}, short or full timing. */
    public static ChainedOptionsBuilder options(boolean quick, int requests, int forks) {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(FragmentationBenchmark.class.getName() + ".replay")
                .param("requests", Integer.toString(requests))
                .shouldFailOnError(true)
                .forks(forks);
        if (quick) {
            b.warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(100));
        }
        return b;
    }

    /** The Markdown tables of the counts in {@code results}, one table per workload. */
    public static String markdown(Collection<RunResult> results, boolean quick, int requests) {
        Map<String, Map<String, Map<String, Result<?>>>> byWorkload = new LinkedHashMap<>();
        for (RunResult r : results) {
            String w = r.getParams().getParam("workload");
            String a = r.getParams().getParam("allocator");
            @SuppressWarnings("unchecked")
            Map<String, Result<?>> secondary = (Map<String, Result<?>>) (Map<String, ?>) r.getAggregatedResult().getSecondaryResults();
            byWorkload.computeIfAbsent(w, k -> new LinkedHashMap<>()).put(a, secondary);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Mode: %s, %d requests per trace, budget %s of %s %s KV cache.%n%n",
                quick ? "short" : "full", requests, "4GiB", FragmentationBenchmark.MODEL, FragmentationBenchmark.DTYPE));
        for (Map.Entry<String, Map<String, Map<String, Result<?>>>> w : byWorkload.entrySet()) {
            sb.append("### ").append(w.getKey()).append("\n\n");
            sb.append("| allocator | waste | internal frag. | external frag. | live / budget | mean concurrency | peak concurrency"
                    + " | rejected admissions | mean queue | preemptions | steps |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            double baseConcurrency = 0;
            List<String> ratios = new ArrayList<>();
            for (String a : ALLOCATORS) {
                Map<String, Result<?>> c = w.getValue().get(a);
                if (c == null) {
                    continue;
                }
                double replays = v(c, "replays");
                double steps = v(c, "steps");
                double held = v(c, "reservedByteSteps") + v(c, "externalFragmentationByteSteps");
                double waste = (held - v(c, "liveTokenByteSteps")) / held;
                double budget = ByteSize.parse("4GiB").bytes() * steps;
                double meanConcurrency = v(c, "concurrencySteps") / steps;
                if (a.equals("contiguous-max")) {
                    baseConcurrency = meanConcurrency;
                } else if (baseConcurrency > 0) {
                    ratios.add(String.format(Locale.ROOT, "%s %.2fx", a, meanConcurrency / baseConcurrency));
                }
                sb.append(String.format(Locale.ROOT, "| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f | %.0f | %.0f | %.1f | %.0f | %.0f |%n",
                        a, 100 * waste, 100 * v(c, "internalFragmentationByteSteps") / held,
                        100 * v(c, "externalFragmentationByteSteps") / held, 100 * v(c, "liveTokenByteSteps") / budget,
                        meanConcurrency, v(c, "peakConcurrency") / replays, v(c, "rejectedAdmissions") / replays,
                        v(c, "queuedRequestSteps") / steps, v(c, "preemptions") / replays, steps / replays));
            }
            sb.append("\nMean concurrency relative to contiguous-max: ").append(String.join(", ", ratios)).append(".\n\n");
        }
        return sb.toString();
    }

    private static double v(Map<String, Result<?>> c, String name) {
        Result<?> r = c.get(name);
        if (r == null) {
            throw new IllegalStateException("secondary result '" + name + "' missing (expected: one per counter)");
        }
        return r.getScore();
    }

    /** Replays ShareGPT under contiguous-max, first-fit and paged-16 and charts live KV / budget over time. */
    public static void utilisationChart(int requests, Path png) throws IOException {
        Trace trace = Workload.SHAREGPT.generate(requests, 1);
        long budget = ByteSize.parse("4GiB").bytes();
        List<SimulationResult> runs = new ArrayList<>();
        for (String a : new String[] {"paged-16", "contiguous-max", "first-fit"}) {
            try (KvAllocationStrategy s = FragmentationBenchmark.strategy(a, budget, trace.maxContext())) {
                SimulationResult r = new ServingSimulator(trace, s, ServingSimulator.Progress.NONE).run();
                runs.add(r);
            }
        }
        UtilisationChart.write("KV memory holding live tokens, ShareGPT x" + requests + ", 4 GiB of llama-3.1-8b q8_0",
                runs, new String[] {"paged-16", "contiguous-max", "first-fit"}, budget, png.toFile());
    }

}
