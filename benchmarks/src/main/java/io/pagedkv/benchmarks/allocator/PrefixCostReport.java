package io.pagedkv.benchmarks.allocator;

import io.pagedkv.benchmarks.report.LoadAverage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.util.Statistics;

/**
 * Runs {@link PrefixCacheBenchmark} (every method, at its annotations' settings unless JMH options
 * follow; JMH prints them all) and prints, per prompt length, the prefix cache's cost per block
 * (issue 27, goal 3): a hit's lookup (open + close of a fully cached prompt), the part of it that is
 * hashing and runs before the index's lock ({@code hashPrompt}), the rest (one table probe, the ids'
 * check and a retain per block under the lock, and the close that hands the blocks back to the LRU),
 * and a commit; then each per-block figure at the longest prompt over the shortest (about 1 when the
 * cost is O(blocks)). The commit is a sample-mode benchmark (see {@link PrefixCacheBenchmark}): its
 * figure is the median of the timed invocations, with their 10th-90th percentile range, and its mean
 * and error are printed beside it (moved by millisecond stalls, not the commit). The load average
 * before and after is printed. With {@code --out DIR} the table is also written to
 * {@code DIR/prefix.md}. A program; not thread-safe.
 */
public final class PrefixCostReport {

    private static final int BLOCK = 16;

    private PrefixCostReport() {
    }

    /** Runs the benchmark and prints the per-block table. */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        Path outDir = null;
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                outDir = Path.of(args[++i]);
            } else {
                jmhArgs.add(args[i]);
            }
        }
        String before = LoadAverage.now();
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .parent(new CommandLineOptions(jmhArgs.toArray(String[]::new)))
                .include("\\.PrefixCacheBenchmark\\.").shouldFailOnError(true).build()).run();
        String after = LoadAverage.now();
        // promptTokens -> method -> ns per op: mean, error, and for sample mode median, p10, p90
        Map<Integer, Map<String, double[]>> byPrompt = new TreeMap<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String method = bench.substring(bench.lastIndexOf('.') + 1);
            int tokens = Integer.parseInt(r.getParams().getParam("promptTokens"));
            Statistics st = r.getPrimaryResult().getStatistics();
            boolean sampled = r.getParams().getMode() == Mode.SampleTime;
            byPrompt.computeIfAbsent(tokens, k -> new TreeMap<>()).put(method, new double[] {
                r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError(),
                sampled ? st.getPercentile(50) : Double.NaN, sampled ? st.getPercentile(10) : Double.NaN,
                sampled ? st.getPercentile(90) : Double.NaN});
        }
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(before).append("; after: ").append(after).append("\n\n");
        md.append("ns per block of ").append(BLOCK).append(" tokens (ns per operation / blocks; ± JMH's 99.9% error"
                + " scaled the same way; the commit in sample mode: the median of every timed invocation and its"
                + " 10th-90th percentiles, then the mean, which millisecond stalls move)\n\n");
        md.append("| prompt tokens | blocks | hit lookup | of which hashing, before the lock | the rest: lookups, ids' check, retain, close"
                + " | commit, median (p10-p90) | commit, mean ± error |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        double[] first = null;
        double[] last = null;
        for (Map.Entry<Integer, Map<String, double[]>> e : byPrompt.entrySet()) {
            int blocks = e.getKey() / BLOCK;
            double[] hit = e.getValue().get("lookupHit");
            double[] hash = e.getValue().get("hashPrompt");
            double[] commit = e.getValue().get("commit");
            if (hit == null || hash == null || commit == null) {
                continue;
            }
            // the commit's figure is its median when sampled (see PrefixCacheBenchmark), else its mean
            double commitFigure = Double.isNaN(commit[2]) ? commit[0] : commit[2];
            double[] perBlock = {hit[0] / blocks, hash[0] / blocks, (hit[0] - hash[0]) / blocks, commitFigure / blocks};
            md.append(String.format(Locale.ROOT, "| %,d | %,d | %.1f ± %.1f | %.1f ± %.1f | %.1f | %s | %.1f ± %.1f |%n",
                    e.getKey(), blocks, perBlock[0], hit[1] / blocks, perBlock[1], hash[1] / blocks, perBlock[2],
                    Double.isNaN(commit[2]) ? "n/a (not sampled)" : String.format(Locale.ROOT, "%.1f (%.1f-%.1f)",
                            perBlock[3], commit[3] / blocks, commit[4] / blocks),
                    commit[0] / blocks, commit[1] / blocks));
            if (first == null) {
                first = perBlock;
            }
            last = perBlock;
        }
        if (first != null && last != first) {
            md.append(String.format(Locale.ROOT, "%nper block, longest prompt / shortest: hit lookup %.2fx, the rest"
                    + " %.2fx, commit (medians) %.2fx (1.00x: the cost grows with the blocks only)%n", last[0] / first[0],
                    last[2] / first[2], last[3] / first[3]));
        }
        System.out.println();
        System.out.print(md);
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("prefix.md"), md.toString());
        }
    }
}
