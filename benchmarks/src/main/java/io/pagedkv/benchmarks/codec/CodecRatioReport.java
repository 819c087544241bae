package io.pagedkv.benchmarks.codec;

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
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link ScalarCodecBenchmark}, {@link VectorCodecBenchmark} and, when the native anchor is built
 * (system property {@value NativeCodecs#LIB_PROP_NAME} in this JVM; it is passed on to the forks),
 * {@link NativeCodecBenchmark}, and prints per dtype and direction the GB/s of each and the ratios the
 * goals ask for: C / Java vector (the goal: at most 2) and vector / scalar.
 *
 * <p>One JMH fork can differ from the next by more than the goal's margin (C2 compiles and inlines
 * differently, and a shared machine slows a fork for seconds at a time), so the Java vector and C cases
 * run in {@code --passes} passes (default {@value #DEFAULT_PASSES}), one fork each per pass, the passes
 * one after the other so that each case's forks are minutes apart and interleaved with the other side's.
 * The scalar cases, which no goal compares, run in the first pass only. JMH runs in sample mode; a fork's
 * figure is 128 KiB over its median time of one operation; a cell gives the median of its forks' figures
 * and, in brackets, their lowest and highest (one fork: its 10th-90th percentile range); the C / Java
 * ratio is that of the two medians, with the lowest and highest of the per-pass ratios beside it. Without
 * {@code -wi}/{@code -i} on the command line a fork has 2 warmup and 2 measured iterations of 1 s. The load
 * average before and after is printed so a noisy run shows. JMH options may follow (e.g.
 * {@code -p dtype=q8_0}); with {@code --out DIR} the table is also written to {@code DIR/codecs.md}. Not
 * thread-safe; a program.
 */
public final class CodecRatioReport {

    /** Passes over the Java vector and C cases when {@code --passes} is not given. */
    static final int DEFAULT_PASSES = 3;

    private CodecRatioReport() {
    }

    /** Runs the benchmarks and prints the ratio table. */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        Path outDir = null;
        int passes = DEFAULT_PASSES;
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                outDir = Path.of(args[++i]);
            } else if (args[i].equals("--passes") && i + 1 < args.length) {
                passes = Integer.parseInt(args[++i]);
                if (passes < 1) {
                    throw new IllegalArgumentException("--passes: " + passes + " (expected: at least 1)");
                }
            } else {
                jmhArgs.add(args[i]);
            }
        }
        String lib = System.getProperty(NativeCodecs.LIB_PROP_NAME);
        boolean nativeBuilt = lib != null && Files.isRegularFile(Path.of(lib));
        CommandLineOptions cmd = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        String loadBefore = LoadAverage.now();
        // case "dtype|direction" -> implementation -> one result per fork, in pass order
        Map<String, Map<String, List<Result<?>>>> byCase = new TreeMap<>();
        for (int pass = 0; pass < passes; pass++) {
            String include = pass == 0
                    ? (nativeBuilt ? "\\.(Scalar|Vector|Native)CodecBenchmark\\." : "\\.(Scalar|Vector)CodecBenchmark\\.")
                    : (nativeBuilt ? "\\.(Vector|Native)CodecBenchmark\\." : "\\.VectorCodecBenchmark\\.");
            OptionsBuilder builder = new OptionsBuilder();
            builder.parent(cmd).include(include).mode(Mode.SampleTime).operationsPerInvocation(1)
                    .timeUnit(TimeUnit.NANOSECONDS).shouldFailOnError(true);
            if (!cmd.getForkCount().hasValue()) {
                builder.forks(1);
            }
            if (!cmd.getWarmupIterations().hasValue()) {
                builder.warmupIterations(2);
            }
            if (!cmd.getMeasurementIterations().hasValue()) {
                builder.measurementIterations(2);
            }
            if (nativeBuilt) {
                builder.jvmArgsPrepend("-D" + NativeCodecs.LIB_PROP_NAME + "=" + lib);
            }
            System.err.println("CodecRatioReport: pass " + (pass + 1) + " of " + passes + ", load average " + LoadAverage.now());
            Collection<RunResult> results = new Runner(builder.build()).run();
            for (RunResult r : results) {
                String bench = r.getParams().getBenchmark();
                String cls = bench.substring(0, bench.lastIndexOf('.'));
                String impl = cls.substring(cls.lastIndexOf('.') + 1).replace("CodecBenchmark", "").toLowerCase(Locale.ROOT);
                String direction = bench.substring(bench.lastIndexOf('.') + 1);
                byCase.computeIfAbsent(r.getParams().getParam("dtype") + "|" + direction, k -> new TreeMap<>())
                        .computeIfAbsent(impl, k -> new ArrayList<>()).add(r.getPrimaryResult());
            }
        }
        String loadAfter = LoadAverage.now();
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter)
                .append(nativeBuilt ? "" : "; native anchor not built (no gcc?): C columns empty").append("\n\n");
        md.append(String.format(Locale.ROOT, "GB/s of binary32 data, 128 KiB over a fork's median time per operation (JMH sample mode);"
                + " Java vector and C: the median of %d forks, one per pass, [lowest-highest fork]; Java scalar: one fork"
                + " [its 10th-90th percentile]; C / Java vector: the ratio of the medians [lowest-highest per-pass ratio]%n%n", passes));
        md.append("| dtype | direction | Java scalar GB/s | Java vector GB/s | C GB/s | C / Java vector | vector / scalar |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<Result<?>>>> e : byCase.entrySet()) {
            String[] k = e.getKey().split("\\|");
            Map<String, List<Result<?>>> m = e.getValue();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", k[0], k[1], cell(m.get("scalar")),
                    cell(m.get("vector")), cell(m.get("native")), ratio(m.get("native"), m.get("vector"), true),
                    ratio(m.get("vector"), m.get("scalar"), false)));
        }
        System.out.println();
        System.out.print(md);
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("codecs.md"), md.toString());
        }
    }

    /** GB/s at a percentile of the time of one operation (sample mode, ns per 128 KiB). */
    private static double gbps(Result<?> r, double percentile) {
        return CodecBench.INPUT_BYTES / r.getStatistics().getPercentile(percentile);
    }

    /** Each fork's GB/s at its median time, sorted. */
    private static double[] forkMedians(List<Result<?>> forks) {
        return forks.stream().mapToDouble(r -> gbps(r, 50)).sorted().toArray();
    }

    /** The median of sorted values (the mean of the middle two for an even count). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String cell(List<Result<?>> forks) {
        if (forks == null || forks.isEmpty()) {
            return "-";
        }
        if (forks.size() == 1) {
            Result<?> r = forks.get(0);
            return String.format(Locale.ROOT, "%.1f [%.1f-%.1f]", gbps(r, 50), gbps(r, 90), gbps(r, 10));
        }
        double[] g = forkMedians(forks);
        return String.format(Locale.ROOT, "%.1f [%.1f-%.1f]", median(g), g[0], g[g.length - 1]);
    }

    /** {@code a / b} of the median figures; with {@code perPass}, the range of pass k's a over pass k's b. */
    private static String ratio(List<Result<?>> a, List<Result<?>> b, boolean perPass) {
        if (a == null || b == null || a.isEmpty() || b.isEmpty()) {
            return "-";
        }
        double r = median(forkMedians(a)) / median(forkMedians(b));
        int n = Math.min(a.size(), b.size());
        if (!perPass || n < 2) {
            return String.format(Locale.ROOT, "%.2fx", r);
        }
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (int i = 0; i < n; i++) {
            double x = gbps(a.get(i), 50) / gbps(b.get(i), 50);
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return String.format(Locale.ROOT, "%.2fx [%.2f-%.2f]", r, lo, hi);
    }
}
