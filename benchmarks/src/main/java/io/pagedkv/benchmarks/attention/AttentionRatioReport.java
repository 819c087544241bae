package io.pagedkv.benchmarks.attention;

import io.pagedkv.dtype.KvDType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link DecodeAttentionBenchmark} (JMH options may follow, e.g. {@code -p tokens=1024 -wi 1})
 * and prints, per context length and dtype, every kernel's time and the ratios the goals ask for,
 * all from the same run: paged / contiguous (the cost of the block table), and each kernel / scan
 * (how far from streaming the K/V bytes at the bandwidth the scan measured). JMH runs in sample mode
 * and the table gives each benchmark's median time per operation with its 10th-90th percentile range:
 * on a shared machine the mean absorbs every preemption by other processes, while most operations
 * (tens of microseconds to milliseconds) run uninterrupted, so the median is the robust estimate and
 * the range shows the noise. The load average before and after is printed too. With {@code --out DIR}
 * the table is also written to {@code DIR/attention.md}. Not thread-safe; a program.
 */
public final class AttentionRatioReport {

    private AttentionRatioReport() {
    }

    /** Runs the benchmark and prints the ratio table. */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        Path outDir = null;
        java.util.List<String> jmhArgs = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                outDir = Path.of(args[++i]);
            } else {
                jmhArgs.add(args[i]);
            }
        }
        String loadBefore = loadAverage();
        Options cli = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        Options opts = new OptionsBuilder().parent(cli).include("\\." + DecodeAttentionBenchmark.class.getSimpleName() + "\\.")
                .mode(Mode.SampleTime).shouldFailOnError(true).build();
        Collection<RunResult> results = new Runner(opts).run();
        String loadAfter = loadAverage();
        Map<String, Map<String, Result<?>>> byCase = new TreeMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            String key = String.format(Locale.ROOT, "%6d|%s|%s|%s", Integer.parseInt(r.getParams().getParam("tokens")),
                    r.getParams().getParam("dtype"), r.getParams().getParam("headDim"), r.getParams().getParam("layout"));
            byCase.computeIfAbsent(key, k -> new TreeMap<>()).put(method, r.getPrimaryResult());
        }
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter).append("\n\n");
        md.append("median µs per decode (10th-90th percentile), JMH sample mode\n\n");
        md.append("| tokens | dtype | head dim | pool layout | K/V bytes | scan µs (GB/s) | FMA floor µs | contiguous µs | paged µs"
                + " | paged / contiguous | contiguous / scan | paged / scan | paged / max(scan, FMA floor) | pagedScalar µs |\n");
        md.append("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, Result<?>>> e : byCase.entrySet()) {
            String[] k = e.getKey().split("\\|");
            int tokens = Integer.parseInt(k[0].trim());
            long bytes = DecodeAttentionBenchmark.kvBytes(tokens, KvDType.parse(k[1]), Integer.parseInt(k[2]));
            Map<String, Result<?>> m = e.getValue();
            double scan = score(m, "scan");
            double contiguous = score(m, "contiguous");
            double paged = score(m, "paged");
            double fma = score(m, "fmaFloor");
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %,d | %s (%.1f) | %s | %s | %s | %.2fx | %.2fx | %.2fx | %.2fx | %s |%n",
                    tokens, k[1], k[2], k[3], bytes, cell(m, "scan"), bytes / (scan * 1e3), cell(m, "fmaFloor"), cell(m, "contiguous"),
                    cell(m, "paged"), paged / contiguous, contiguous / scan, paged / scan,
                    paged / (Double.isNaN(fma) ? scan : Math.max(scan, fma)), cell(m, "pagedScalar")));
        }
        System.out.println();
        System.out.print(md);
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("attention.md"), md.toString());
        }
    }

    /** The median time per operation. */
    private static double score(Map<String, Result<?>> m, String method) {
        Result<?> r = m.get(method);
        return r == null ? Double.NaN : r.getStatistics().getPercentile(50);
    }

    private static String cell(Map<String, Result<?>> m, String method) {
        Result<?> r = m.get(method);
        if (r == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", r.getStatistics().getPercentile(50),
                r.getStatistics().getPercentile(10), r.getStatistics().getPercentile(90));
    }

    /** The first three fields of {@code /proc/loadavg}, or "n/a". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
