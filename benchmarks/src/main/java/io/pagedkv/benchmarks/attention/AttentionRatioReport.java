package io.pagedkv.benchmarks.attention;

import io.pagedkv.benchmarks.report.LoadAverage;
import io.pagedkv.dtype.KvDType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link DecodeAttentionBenchmark} (JMH options may follow, e.g. {@code -p tokens=1024 -wi 1})
 * and prints, per context length and dtype, every kernel's time and the ratios the goals ask for,
 * all from the same run: paged / contiguous (the cost of the block table), and each kernel / scan
 * (how far from streaming the K/V bytes at the bandwidth the scan measured). JMH runs in sample mode
 * and the table gives each benchmark's median time per operation over all samples of all its forks,
 * with the 10th-90th percentile range: on a shared machine the mean absorbs every preemption by other
 * processes, while most operations (tens of microseconds to milliseconds) run uninterrupted, so the
 * median is the robust estimate and the range shows the noise. {@code paged} and {@code contiguous}
 * run {@value #KERNEL_FORKS} forks each ({@code -f N} overrides, N at least 1; each fork compiles the loops and places
 * the pages anew, which moved one-fork medians by 25% either way), case by case and alternating (paged,
 * contiguous, contiguous, paged, ...: one JMH run per fork), so that a change of load on a shared
 * machine falls on both; the references ({@code scan}, {@code fmaFloor}, {@code pagedScalar}) one fork
 * each. The kernels' cells list each fork's median in brackets, so the fork-to-fork spread is visible;
 * the ratio column gives, besides the ratio of the pooled medians, the lowest and highest ratio of a
 * pair of forks' medians (paged fork {@code i} over contiguous fork {@code i}, run one after the other).
 * {@code --methods REGEX} selects methods by name, e.g. {@code --methods '(paged|contiguous)$'}; JMH
 * options such as {@code -p tokens=1024 -wi 3} apply to every run (a {@code -jvmArgsAppend} replaces the
 * benchmark's own, so repeat {@code --add-modules jdk.incubator.vector} in it). The load average before
 * and after is printed too. With {@code --out DIR}
 * the table is also written to {@code DIR/attention.md}. Not thread-safe; a program.
 */
public final class AttentionRatioReport {

    private AttentionRatioReport() {
    }

    /** Forks of {@code paged} and of {@code contiguous} per case unless {@code -f} says otherwise. */
    public static final int KERNEL_FORKS = 3;
    /** The two kernels whose ratio is the goal: their forks alternate. */
    private static final List<String> KERNELS = List.of("paged", "contiguous");
    /** The references: one fork each per case. */
    private static final List<String> REFERENCES = List.of("scan", "fmaFloor", "pagedScalar");

    /** Runs the benchmark and prints the ratio table. */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        Path outDir = null;
        Pattern methods = Pattern.compile(".");
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                outDir = Path.of(args[++i]);
            } else if (args[i].equals("--methods") && i + 1 < args.length) {
                methods = Pattern.compile(args[++i]);
            } else {
                jmhArgs.add(args[i]);
            }
        }
        String loadBefore = LoadAverage.now();
        CommandLineOptions cli = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        if (!cli.getIncludes().isEmpty()) {
            // JMH would add them to every run's own pattern: select methods with --methods instead.
            throw new IllegalArgumentException("benchmark patterns: " + cli.getIncludes()
                    + " (expected: none; select methods with --methods REGEX, e.g. --methods '(paged|contiguous)$')");
        }
        int kernelForks = Math.max(1, cli.getForkCount().orElse(KERNEL_FORKS));
        Map<String, Map<String, RunResult>> byCase = new TreeMap<>();
        for (Map<String, String> params : cases(cli)) {
            String key = String.format(Locale.ROOT, "%6d|%s|%s|%s", Integer.parseInt(params.get("tokens")),
                    params.get("dtype"), params.get("headDim"), params.get("layout")
                    + ("head-runs".equals(params.get("blockOrder")) ? "" : ", " + params.get("blockOrder")));
            Map<String, List<BenchmarkResult>> forks = new LinkedHashMap<>();
            // Fork by fork, paged and contiguous next to each other in time, their order swapped every fork:
            // a change of load or of the machine's state hits both alike, not one kernel's forks.
            for (int f = 0; f < kernelForks; f++) {
                for (int i = 0; i < KERNELS.size(); i++) {
                    String method = KERNELS.get((i + f) % KERNELS.size());
                    if (methods.matcher(method).find()) {
                        run(cli, params, method, forks);
                    }
                }
            }
            for (String method : REFERENCES) {
                if (methods.matcher(method).find()) {
                    run(cli, params, method, forks);
                }
            }
            Map<String, RunResult> merged = byCase.computeIfAbsent(key, k -> new TreeMap<>());
            forks.forEach((method, results) -> merged.put(method, new RunResult(results.get(0).getParams(), results)));
        }
        String loadAfter = LoadAverage.now();
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter).append("\n\n");
        md.append("median µs per decode over all forks' samples (10th-90th percentile) [each fork's median], JMH sample mode\n\n");
        md.append("| tokens | dtype | head dim | pool layout | K/V bytes | scan µs (GB/s) | FMA floor µs | contiguous µs | paged µs"
                + " | paged / contiguous (pairs of forks: min-max) | contiguous / scan | paged / scan | paged / max(scan, FMA floor) | pagedScalar µs |\n");
        md.append("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, RunResult>> e : byCase.entrySet()) {
            String[] k = e.getKey().split("\\|");
            int tokens = Integer.parseInt(k[0].trim());
            long bytes = DecodeAttentionBenchmark.kvBytes(tokens, KvDType.parse(k[1]), Integer.parseInt(k[2]));
            Map<String, RunResult> m = e.getValue();
            double scan = score(m, "scan");
            double contiguous = score(m, "contiguous");
            double paged = score(m, "paged");
            double fma = score(m, "fmaFloor");
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %,d | %s (%s) | %s | %s | %s | %s (%s) | %s | %s | %s | %s |%n",
                    tokens, k[1], k[2], k[3], bytes, cell(m, "scan"), figure("%.1f", bytes / (scan * 1e3)), cell(m, "fmaFloor"),
                    cell(m, "contiguous"), cell(m, "paged"), figure("%.2fx", paged / contiguous),
                    forkRatios(m.get("paged"), m.get("contiguous")), figure("%.2fx", contiguous / scan), figure("%.2fx", paged / scan),
                    figure("%.2fx", paged / (Double.isNaN(fma) ? scan : Math.max(scan, fma))), cell(m, "pagedScalar")));
        }
        System.out.println();
        System.out.print(md);
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("attention.md"), md.toString());
        }
    }

    /** Runs one fork of {@code method} for one case and adds its result to {@code forks}. */
    private static void run(CommandLineOptions cli, Map<String, String> params, String method,
            Map<String, List<BenchmarkResult>> forks) throws RunnerException {
        OptionsBuilder b = new OptionsBuilder();
        b.parent(cli).include("\\." + DecodeAttentionBenchmark.class.getSimpleName() + "\\." + method + "$")
                .mode(Mode.SampleTime).forks(1).shouldFailOnError(true);
        params.forEach((name, value) -> b.param(name, value));
        for (RunResult r : new Runner(b.build()).run()) {
            forks.computeIfAbsent(method, m -> new ArrayList<>()).addAll(r.getBenchmarkResults());
        }
    }

    /**
     * Every combination of the benchmark's parameters: each {@code @Param} field's values from the
     * command line's {@code -p}, or else from its annotation.
     */
    private static List<Map<String, String>> cases(CommandLineOptions cli) {
        List<Map<String, String>> cases = new ArrayList<>();
        cases.add(new LinkedHashMap<>());
        for (Field field : DecodeAttentionBenchmark.class.getFields()) {
            Param p = field.getAnnotation(Param.class);
            if (p == null) {
                continue;
            }
            Collection<String> values = cli.getParameter(field.getName()).orElse(List.of(p.value()));
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> c : cases) {
                for (String v : values) {
                    Map<String, String> m = new LinkedHashMap<>(c);
                    m.put(field.getName(), v);
                    next.add(m);
                }
            }
            cases = next;
        }
        return cases;
    }

    /** {@code value} in {@code format}, or "-" when a benchmark it needs was not run ({@code --methods}). */
    private static String figure(String format, double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }

    /** The median time per operation. */
    private static double score(Map<String, RunResult> m, String method) {
        RunResult r = m.get(method);
        return r == null ? Double.NaN : r.getPrimaryResult().getStatistics().getPercentile(50);
    }

    private static String cell(Map<String, RunResult> m, String method) {
        RunResult run = m.get(method);
        if (run == null) {
            return "-";
        }
        Result<?> r = run.getPrimaryResult();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", r.getStatistics().getPercentile(50),
                r.getStatistics().getPercentile(10), r.getStatistics().getPercentile(90)));
        double[] forks = forkMedians(run);
        if (forks.length > 1) {
            s.append(" [");
            for (int i = 0; i < forks.length; i++) {
                s.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.1f", forks[i]));
            }
            s.append(']');
        }
        return s.toString();
    }

    /** Each fork's median time per operation, in fork order. */
    private static double[] forkMedians(RunResult run) {
        return run.getBenchmarkResults().stream().mapToDouble(b -> b.getPrimaryResult().getStatistics().getPercentile(50)).toArray();
    }

    /**
     * The lowest and highest ratio of paged fork {@code i}'s median to contiguous fork {@code i}'s (the two
     * ran next to each other in time), or "-".
     */
    private static String forkRatios(RunResult paged, RunResult contiguous) {
        if (paged == null || contiguous == null) {
            return "-";
        }
        double[] p = forkMedians(paged);
        double[] c = forkMedians(contiguous);
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (int i = 0; i < Math.min(p.length, c.length); i++) {
            lo = Math.min(lo, p[i] / c[i]);
            hi = Math.max(hi, p[i] / c[i]);
        }
        return String.format(Locale.ROOT, "%.2f-%.2f", lo, hi);
    }
}
