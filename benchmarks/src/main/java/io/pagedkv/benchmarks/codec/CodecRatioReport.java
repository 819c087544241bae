package io.pagedkv.benchmarks.codec;

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
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link ScalarCodecBenchmark}, {@link VectorCodecBenchmark} and, when the native anchor is built
 * (system property {@value NativeCodecs#LIB_PROP_NAME} in this JVM; it is passed on to the forks),
 * {@link NativeCodecBenchmark} in one JMH run, and prints per dtype and direction the GB/s of each and
 * the ratios the goals ask for: C / Java vector (the goal: at most 2) and vector / scalar. JMH runs in
 * sample mode: each figure is 128 KiB divided by the median time of one operation (its 10th-90th
 * percentile range beside it), the estimate a shared machine's preemptions disturb least. The load
 * average before and after is printed so a noisy run shows. JMH options may follow (e.g. {@code -wi 1
 * -p dtype=q8_0}); with {@code --out DIR} the table is also written to {@code DIR/codecs.md}. Not
 * thread-safe; a program.
 */
public final class CodecRatioReport {

    private CodecRatioReport() {
    }

    /** Runs the benchmarks and prints the ratio table. */
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
        String lib = System.getProperty(NativeCodecs.LIB_PROP_NAME);
        boolean nativeBuilt = lib != null && Files.isRegularFile(Path.of(lib));
        String include = nativeBuilt ? "\\.(Scalar|Vector|Native)CodecBenchmark\\." : "\\.(Scalar|Vector)CodecBenchmark\\.";
        String loadBefore = loadAverage();
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(new CommandLineOptions(jmhArgs.toArray(String[]::new))).include(include).mode(Mode.SampleTime)
                .operationsPerInvocation(1).timeUnit(TimeUnit.NANOSECONDS).shouldFailOnError(true);
        if (nativeBuilt) {
            builder.jvmArgsPrepend("-D" + NativeCodecs.LIB_PROP_NAME + "=" + lib);
        }
        Options opts = builder.build();
        Collection<RunResult> results = new Runner(opts).run();
        String loadAfter = loadAverage();
        Map<String, Map<String, Result<?>>> byCase = new TreeMap<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String cls = bench.substring(0, bench.lastIndexOf('.'));
            String impl = cls.substring(cls.lastIndexOf('.') + 1).replace("CodecBenchmark", "").toLowerCase(Locale.ROOT);
            String direction = bench.substring(bench.lastIndexOf('.') + 1);
            byCase.computeIfAbsent(r.getParams().getParam("dtype") + "|" + direction, k -> new TreeMap<>())
                    .put(impl, r.getPrimaryResult());
        }
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter)
                .append(nativeBuilt ? "" : "; native anchor not built (no gcc?): C columns empty").append("\n\n");
        md.append("GB/s of binary32 data from the median time per 128 KiB (10th-90th percentile range), JMH sample mode\n\n");
        md.append("| dtype | direction | Java scalar GB/s | Java vector GB/s | C GB/s | C / Java vector | vector / scalar |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, Result<?>>> e : byCase.entrySet()) {
            String[] k = e.getKey().split("\\|");
            Map<String, Result<?>> m = e.getValue();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", k[0], k[1], cell(m.get("scalar")),
                    cell(m.get("vector")), cell(m.get("native")), ratio(m.get("native"), m.get("vector")),
                    ratio(m.get("vector"), m.get("scalar"))));
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

    private static String cell(Result<?> r) {
        if (r == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", gbps(r, 50), gbps(r, 90), gbps(r, 10));
    }

    private static String ratio(Result<?> a, Result<?> b) {
        return a == null || b == null ? "-" : String.format(Locale.ROOT, "%.2fx", gbps(a, 50) / gbps(b, 50));
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
