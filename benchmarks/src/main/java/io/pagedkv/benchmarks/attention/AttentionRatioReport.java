package io.pagedkv.benchmarks.attention;

import io.pagedkv.benchmarks.report.LoadAverage;
import io.pagedkv.dtype.KvDType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.openjdk.jmh.results.IterationResult;
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
 * (how far from streaming the K/V bytes at the bandwidth the scan measured). JMH runs in sample mode.
 *
 * <p><b>Paged / contiguous</b> comes from {@value #KERNEL_FORKS} forks ({@code -f N} overrides, N at
 * least 1) of {@link DecodeAttentionBenchmark#alternating}, which runs the two kernels in turn,
 * iteration by iteration, in one JVM: each paged iteration's median over the mean of its contiguous
 * neighbours' is one pair ({@link AlternatingPairs}); a fork's ratio is the median of its pairs, the
 * table's the median of the forks' ratios, with their lowest and highest. Separate forks of each kernel
 * could not decide a 10% margin on the 2-core VM: each kernel's fork medians moved by up to 1.8x, and
 * a fork's speed changed after 10-20 s with no compilation at the switch, so a ratio of two forks run
 * one after the other carried the host's drift. The kernels' cells give the median over every fork's
 * iteration medians, with the 10th-90th percentile of those, and each fork's median in brackets.
 *
 * <p>The references ({@code scan}, {@code fmaFloor}, {@code pagedScalar}) run one fork each, and
 * their cells give the median over all samples (10th-90th percentile). {@code --methods REGEX} selects
 * what runs by name, e.g. {@code --methods alternating} for the ratio alone; JMH options such as
 * {@code -p tokens=1024 -wi 3} apply to every run (a {@code -jvmArgsAppend} replaces the benchmark's
 * own, so repeat {@code --add-modules jdk.incubator.vector} in it). The load average before and after
 * is printed too. With {@code --out DIR} the table is also written to {@code DIR/attention.md}. Not
 * thread-safe; a program.
 */
public final class AttentionRatioReport {

    private AttentionRatioReport() {
    }

    /** Forks of {@code alternating} per case unless {@code -f} says otherwise. */
    public static final int KERNEL_FORKS = 5;
    /** The benchmark that runs both kernels in turn. */
    private static final String ALTERNATING = "alternating";
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
                    + " (expected: none; select methods with --methods REGEX, e.g. --methods alternating)");
        }
        int kernelForks = Math.max(1, cli.getForkCount().orElse(KERNEL_FORKS));
        Map<String, Map<String, List<BenchmarkResult>>> byCase = new TreeMap<>();
        for (Map<String, String> params : cases(cli)) {
            String key = String.format(Locale.ROOT, "%6d|%s|%s|%s", Integer.parseInt(params.get("tokens")),
                    params.get("dtype"), params.get("headDim"), params.get("layout")
                    + ("head-runs".equals(params.get("blockOrder")) ? "" : ", " + params.get("blockOrder"))
                    + ("16".equals(params.get("blockSize")) ? "" : ", blocks of " + params.get("blockSize"))
                    + ("1".equals(params.get("runBlocks")) ? "" : ", runs of " + params.get("runBlocks")));
            Map<String, List<BenchmarkResult>> forks = new LinkedHashMap<>();
            for (int f = 0; f < kernelForks && methods.matcher(ALTERNATING).find(); f++) {
                run(cli, params, ALTERNATING, forks);
            }
            for (String method : REFERENCES) {
                if (methods.matcher(method).find()) {
                    run(cli, params, method, forks);
                }
            }
            Map<String, List<BenchmarkResult>> merged = byCase.computeIfAbsent(key, k -> new TreeMap<>());
            merged.putAll(forks);
        }
        String loadAfter = LoadAverage.now();
        StringBuilder md = new StringBuilder();
        md.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter).append("\n\n");
        md.append("paged and contiguous: median µs per decode over every fork's iteration medians (10th-90th percentile)"
                + " [each fork's median], from forks of `alternating`; paged / contiguous: median over forks of each fork's"
                + " median paired ratio (lowest-highest fork); references: median over all samples (10th-90th percentile),"
                + " one fork; JMH sample mode\n\n");
        md.append("| tokens | dtype | head dim | pool layout | K/V bytes | scan µs (GB/s) | FMA floor µs | contiguous µs | paged µs"
                + " | paged / contiguous (forks: min-max) | contiguous / scan | paged / scan | paged / max(scan, FMA floor) | pagedScalar µs |\n");
        md.append("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<BenchmarkResult>>> e : byCase.entrySet()) {
            String[] k = e.getKey().split("\\|");
            int tokens = Integer.parseInt(k[0].trim());
            long bytes = DecodeAttentionBenchmark.kvBytes(tokens, KvDType.parse(k[1]), Integer.parseInt(k[2]));
            Map<String, List<BenchmarkResult>> m = e.getValue();
            List<AlternatingPairs> pairs = pairs(m.get(ALTERNATING));
            double scan = score(m, "scan");
            double contiguous = pooledMedian(pairs, false);
            double paged = pooledMedian(pairs, true);
            double fma = score(m, "fmaFloor");
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %,d | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    tokens, k[1], k[2], k[3], bytes, cell(m, "scan"), figure("%.1f", bytes / (scan * 1e3)), cell(m, "fmaFloor"),
                    kernelCell(pairs, false), kernelCell(pairs, true), ratioCell(pairs), figure("%.2fx", contiguous / scan),
                    figure("%.2fx", paged / scan), figure("%.2fx", paged / (Double.isNaN(fma) ? scan : Math.max(scan, fma))),
                    cell(m, "pagedScalar")));
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

    /** The median time per operation over all samples of a reference's forks. */
    private static double score(Map<String, List<BenchmarkResult>> m, String method) {
        List<BenchmarkResult> r = m.get(method);
        return r == null ? Double.NaN : new RunResult(r.get(0).getParams(), r).getPrimaryResult().getStatistics().getPercentile(50);
    }

    private static String cell(Map<String, List<BenchmarkResult>> m, String method) {
        List<BenchmarkResult> forks = m.get(method);
        if (forks == null) {
            return "-";
        }
        Result<?> r = new RunResult(forks.get(0).getParams(), forks).getPrimaryResult();
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", r.getStatistics().getPercentile(50),
                r.getStatistics().getPercentile(10), r.getStatistics().getPercentile(90));
    }

    /** Each {@code alternating} fork's pairs, from its iterations' medians (empty when it did not run). */
    static List<AlternatingPairs> pairs(List<BenchmarkResult> forks) {
        List<AlternatingPairs> pairs = new ArrayList<>();
        for (BenchmarkResult fork : forks == null ? List.<BenchmarkResult>of() : forks) {
            List<IterationResult> its = new ArrayList<>(fork.getIterationResults());
            double[] medians = new double[its.size()];
            for (int i = 0; i < medians.length; i++) {
                medians[i] = its.get(i).getPrimaryResult().getStatistics().getPercentile(50);
            }
            pairs.add(AlternatingPairs.of(fork.getParams().getWarmup().getCount(), medians));
        }
        return pairs;
    }

    /** One kernel's iteration medians over every fork. */
    private static double[] pooled(List<AlternatingPairs> pairs, boolean paged) {
        return pairs.stream().flatMapToDouble(p -> Arrays.stream(paged ? p.paged() : p.contiguous())).toArray();
    }

    private static double pooledMedian(List<AlternatingPairs> pairs, boolean paged) {
        return AlternatingPairs.median(pooled(pairs, paged));
    }

    /** Median (10th-90th percentile) of the kernel's iteration medians, and each fork's median. */
    private static String kernelCell(List<AlternatingPairs> pairs, boolean paged) {
        if (pairs.isEmpty()) {
            return "-";
        }
        double[] all = pooled(pairs, paged);
        Arrays.sort(all);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", AlternatingPairs.median(all),
                all[(int) (0.1 * (all.length - 1))], all[(int) Math.ceil(0.9 * (all.length - 1))]));
        if (pairs.size() > 1) {
            s.append(" [");
            for (int i = 0; i < pairs.size(); i++) {
                double[] side = paged ? pairs.get(i).paged() : pairs.get(i).contiguous();
                s.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.1f", AlternatingPairs.median(side)));
            }
            s.append(']');
        }
        return s.toString();
    }

    /** The median of the forks' paired ratios and their range, or "-". */
    private static String ratioCell(List<AlternatingPairs> pairs) {
        if (pairs.isEmpty()) {
            return "-";
        }
        double[] ratios = pairs.stream().mapToDouble(AlternatingPairs::ratio).toArray();
        return String.format(Locale.ROOT, "**%.2fx** (%.2f-%.2f)", AlternatingPairs.median(ratios),
                Arrays.stream(ratios).min().orElseThrow(), Arrays.stream(ratios).max().orElseThrow());
    }
}
