package io.pagedkv.benchmarks.throughput;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the throughput benchmarks of this package through JMH (fail-on-error on) and prints their
 * Markdown tables with the ratios against the baselines measured in the same run.
 *
 * <p>{@code --full}: the annotations' settings (1 fork, 3 warmup and 5 measured iterations of 1 s),
 * three block sizes (4 KiB, 32 KiB, 1,114,112 B), F16 and F32. {@code --short}: the smallest case only (4 KiB blocks, F16), one
 * fork, one 200 ms warmup and one 200 ms measured iteration. {@code --out DIR} also writes {@code throughput.md}
 * (or {@code throughput-short.md}) there. Not thread-safe; a command-line entry point.
 */
public final class ThroughputResults {

    /** Baselines of the allocate + free benchmark, in table order. */
    private static final String[] ALLOCATORS = {"blockPoolThreadCaches", "blockPoolLocked", "blockPoolOwnerPerThread",
        "nettyPooledDirect", "nettyPooledDirectThreadCache", "arenaConfined", "arenaShared"};
    /** The pool whose ratios the second table gives: the one pool a multi-threaded engine shares. */
    private static final String POOL = "blockPoolThreadCaches";
    /** Variants of the token write benchmark, in table order. */
    private static final String[] WRITES = {
        "sequenceAppendWrite", "stepWrite", "stepWriteTokenRuns", "stepWriteFromF32", "stepWriteFromF32TokenRuns",
        "memoryCopy", "headCopies", "tokenRunCopies"};
    /** Variants given as a ratio to {@code memoryCopy}, in table order. */
    private static final String[] WRITE_RATIOS = {
        "stepWrite", "stepWriteTokenRuns", "stepWriteFromF32", "stepWriteFromF32TokenRuns", "sequenceAppendWrite",
        "headCopies", "tokenRunCopies"};

    private ThroughputResults() {
    }

    /** {@code [--short|--full] [--out DIR]}: runs, prints the tables, optionally writes them. */
    public static void main(String[] args) throws RunnerException, IOException {
        boolean quick = false;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--short" -> quick = true;
                case "--full" -> quick = false;
                case "--out" -> {
                    if (i + 1 == args.length) {
                        throw new IllegalArgumentException("--out: missing directory");
                    }
                    out = Path.of(args[++i]);
                }
                default -> throw new IllegalArgumentException("argument: '" + args[i]
                        + "' (expected: --short, --full or --out DIR)");
            }
        }
        Collection<RunResult> results = new Runner(options(quick, 1).build()).run();
        String md = markdown(results);
        System.out.println(md);
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve(quick ? "throughput-short.md" : "throughput.md"), md);
        }
    }

    /** JMH options for every benchmark of this package with {@code forks} forks, short or full. */
    public static ChainedOptionsBuilder options(boolean quick, int forks) {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(ThroughputResults.class.getPackageName() + "\\.")
                .shouldFailOnError(true)
                .forks(forks);
        if (quick) {
            b.param("blockBytes", "4096").param("dtype", "F16")
                    .warmupIterations(1).warmupTime(TimeValue.milliseconds(200))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(200));
        }
        return b;
    }

    /** The Markdown tables of {@code results}: allocate + free pairs per second, ns per token, ratios. */
    public static String markdown(Collection<RunResult> results) {
        // key: "threads/blockBytes" -> method -> result; and dtype -> method -> result
        Map<String, Map<String, Result<?>>> alloc = new TreeMap<>();
        Map<String, Map<String, Result<?>>> write = new TreeMap<>();
        for (RunResult r : results) {
            var params = r.getParams();
            String bench = params.getBenchmark();
            String method = bench.substring(bench.lastIndexOf('.') + 1);
            if (bench.contains("AllocateFree")) {
                String key = String.format(Locale.ROOT, "%d/%010d", params.getThreads(),
                        Integer.parseInt(params.getParam("blockBytes")));
                alloc.computeIfAbsent(key, k -> new TreeMap<>()).put(method, r.getPrimaryResult());
            } else if (bench.contains("TokenWrite")) {
                write.computeIfAbsent(params.getParam("dtype"), k -> new TreeMap<>()).put(method, r.getPrimaryResult());
            }
        }
        StringBuilder sb = new StringBuilder();
        if (!alloc.isEmpty()) {
            sb.append("#### Block allocate + free pairs per second (higher is better)\n\n");
            sb.append("| threads | block bytes |");
            for (String a : ALLOCATORS) {
                sb.append(' ').append(a).append(" |");
            }
            sb.append("\n|---:|---:|");
            sb.append("---:|".repeat(ALLOCATORS.length)).append('\n');
            for (var e : alloc.entrySet()) {
                String[] k = e.getKey().split("/");
                sb.append("| ").append(k[0]).append(" | ").append(group(Long.parseLong(k[1]))).append(" |");
                for (String a : ALLOCATORS) {
                    sb.append(' ').append(score(e.getValue().get(a), "%,.0f")).append(" |");
                }
                sb.append('\n');
            }
            sb.append("\n#### ").append(POOL)
                    .append(" pairs per second / baseline pairs per second (same run; > 1: pagedkv faster)\n\n");
            sb.append("| threads | block bytes |");
            for (String a : ALLOCATORS) {
                if (!a.equals(POOL)) {
                    sb.append(" vs ").append(a).append(" |");
                }
            }
            sb.append("\n|---:|---:|").append("---:|".repeat(ALLOCATORS.length - 1)).append('\n');
            for (var e : alloc.entrySet()) {
                String[] k = e.getKey().split("/");
                sb.append("| ").append(k[0]).append(" | ").append(group(Long.parseLong(k[1]))).append(" |");
                Result<?> pool = e.getValue().get(POOL);
                for (String a : ALLOCATORS) {
                    if (!a.equals(POOL)) {
                        sb.append(' ').append(ratio(pool, e.getValue().get(a))).append(" |");
                    }
                }
                sb.append('\n');
            }
            // scaling: the same allocator and block size on 2 threads against 1 thread, same run
            boolean header = false;
            for (var e : alloc.entrySet()) {
                String[] k = e.getKey().split("/");
                if (!k[0].equals("2")) {
                    continue;
                }
                Map<String, Result<?>> one = alloc.get("1/" + k[1]);
                if (one == null) {
                    continue;
                }
                if (!header) {
                    sb.append("\n#### 2 threads / 1 thread, pairs per second (same run; 2.00x: scales perfectly)\n\n");
                    sb.append("| block bytes |");
                    for (String a : ALLOCATORS) {
                        sb.append(' ').append(a).append(" |");
                    }
                    sb.append("\n|---:|").append("---:|".repeat(ALLOCATORS.length)).append('\n');
                    header = true;
                }
                sb.append("| ").append(group(Long.parseLong(k[1]))).append(" |");
                for (String a : ALLOCATORS) {
                    sb.append(' ').append(ratio(e.getValue().get(a), one.get(a))).append(" |");
                }
                sb.append('\n');
            }
        }
        if (!write.isEmpty()) {
            sb.append("\n#### One token's K/V, all 32 layers x 8 KV heads x 128: ns per token (lower is better)\n\n");
            sb.append("| dtype |");
            for (String w : WRITES) {
                sb.append(' ').append(w).append(" |");
            }
            for (String w : WRITE_RATIOS) {
                sb.append(' ').append(w).append(" / memoryCopy |");
            }
            sb.append("\n|---|");
            sb.append("---:|".repeat(WRITES.length + WRITE_RATIOS.length)).append('\n');
            for (var e : write.entrySet()) {
                Map<String, Result<?>> m = e.getValue();
                sb.append("| ").append(e.getKey()).append(" |");
                for (String w : WRITES) {
                    sb.append(' ').append(score(m.get(w), "%,.0f")).append(" |");
                }
                // time ratios: ns / flat-copy ns of the same bytes (> 1: slower than the flat copy)
                Result<?> flat = m.get("memoryCopy");
                for (String w : WRITE_RATIOS) {
                    sb.append(' ').append(ratio(m.get(w), flat)).append(" |");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static String group(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String score(Result<?> r, String fmt) {
        if (r == null) {
            return "-";
        }
        String s = String.format(Locale.ROOT, fmt, r.getScore());
        double err = r.getScoreError();
        return Double.isNaN(err) ? s : s + " ± " + String.format(Locale.ROOT, fmt, err);
    }

    private static String ratio(Result<?> a, Result<?> b) {
        if (a == null || b == null || b.getScore() == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2fx", a.getScore() / b.getScore());
    }
}
