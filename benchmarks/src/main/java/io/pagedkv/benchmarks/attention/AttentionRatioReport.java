package io.pagedkv.benchmarks.attention;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link DecodeAttentionBenchmark} (JMH options may be passed, e.g. {@code -p tokens=1024 -f 1})
 * and prints, per context length and dtype, the time of each kernel and its ratio to the contiguous
 * baseline measured in the same run. Not thread-safe; a program.
 */
public final class AttentionRatioReport {

    private AttentionRatioReport() {
    }

    /** Runs the benchmark and prints the ratio table. */
    public static void main(String[] args) throws RunnerException, org.openjdk.jmh.runner.options.CommandLineOptionException {
        Options cli = new CommandLineOptions(args);
        Options opts = new OptionsBuilder().parent(cli).include(DecodeAttentionBenchmark.class.getSimpleName())
                .shouldFailOnError(true).build();
        Collection<RunResult> results = new Runner(opts).run();
        Map<String, Map<String, Double>> byCase = new TreeMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            String key = String.format(Locale.ROOT, "%6s %-5s", r.getParams().getParam("tokens"), r.getParams().getParam("dtype"));
            byCase.computeIfAbsent(key, k -> new TreeMap<>()).put(method, r.getPrimaryResult().getScore());
        }
        System.out.println();
        System.out.println("tokens dtype  contiguous us  pagedScalar us  pagedVector us  scalar/contig  vector/contig");
        for (Map.Entry<String, Map<String, Double>> e : byCase.entrySet()) {
            Map<String, Double> m = e.getValue();
            double c = m.getOrDefault("contiguous", Double.NaN);
            double s = m.getOrDefault("pagedScalar", Double.NaN);
            double v = m.getOrDefault("pagedVector", Double.NaN);
            System.out.printf(Locale.ROOT, "%s %14.1f %15.1f %15.1f %14.2f %14.2f%n", e.getKey(), c, s, v, s / c, v / c);
        }
    }
}
