package io.pagedkv.benchmarks.tier;

import java.io.IOException;
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
 * Runs {@link TierRestoreBenchmark} through JMH (fail-on-error on) for every tier in one run and
 * prints restore throughput in GB/s (10^9 bytes per second) with the ratio to the memory copy of the
 * same run. Redis is left out, with a note, when redis-server is absent.
 *
 * <p>{@code --full}: the annotations' settings (1 fork, 3 warmup and 5 measured iterations of 1 s).
 * {@code --short}: one 200 ms warmup and one 200 ms measured iteration (a smoke run, not for quoting).
 * {@code --out DIR} also writes {@code tiers.md} there. A command-line entry point; not thread-safe.
 */
public final class TierResults {

    private TierResults() {
    }

    /** {@code [--short|--full] [--out DIR]}. */
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
        List<String> tiers = new ArrayList<>(List.of("memcpy", "host", "host-queue", "file"));
        String note = "";
        if (RedisProcess.binary() != null) {
            tiers.add("redis");
        } else {
            note = "\nredis: not measured (no redis-server in /usr/bin or /usr/local/bin)\n";
        }
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(TierRestoreBenchmark.class.getName() + "\\.")
                .param("tier", tiers.toArray(new String[0]))
                .shouldFailOnError(true);
        if (quick) {
            o.warmupIterations(1).warmupTime(TimeValue.milliseconds(200))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(200));
        }
        Collection<RunResult> results = new Runner(o.build()).run();
        String md = markdown(results) + note;
        System.out.println(md);
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve(quick ? "tiers-short.md" : "tiers.md"), md);
        }
    }

    static String markdown(Collection<RunResult> results) {
        double blockBytes = TierRestoreBenchmark.LAYOUT.bytesPerBlock();
        Map<String, Result<?>> byTier = new LinkedHashMap<>();
        for (RunResult r : results) {
            byTier.put(r.getParams().getParam("tier"), r.getPrimaryResult());
        }
        Result<?> memcpy = byTier.get("memcpy");
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "restore of one %d-byte block (llama-3.1-8b, f16, 16 tokens), %d blocks "
                + "round robin%n%n", (long) blockBytes, TierRestoreBenchmark.BLOCKS));
        b.append("| tier | blocks/s | GB/s | vs memcpy |\n|---|---:|---:|---:|\n");
        for (Map.Entry<String, Result<?>> e : byTier.entrySet()) {
            Result<?> r = e.getValue();
            double gbs = r.getScore() * blockBytes / 1e9;
            double err = Double.isNaN(r.getScoreError()) ? 0 : r.getScoreError() * blockBytes / 1e9;
            String ratio = memcpy == null ? "-" : String.format(Locale.ROOT, "%.2fx", r.getScore() / memcpy.getScore());
            b.append(String.format(Locale.ROOT, "| %s | %,.0f | %.2f ± %.2f | %s |%n", e.getKey(), r.getScore(), gbs,
                    err, ratio));
        }
        return b.toString();
    }
}
