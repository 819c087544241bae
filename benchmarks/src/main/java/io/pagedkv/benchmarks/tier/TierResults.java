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
 * same run. Redis is left out, with a note, when redis-server is absent. A second run does the same
 * on the real stories260K model's blocks with the third contender, recomputing the prefix with the
 * decoder ({@code tier=recompute}), reported per block; it is left out, with a note, when the
 * checkpoint is absent.
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
        String md = markdown(results, TierRestoreBenchmark.LAYOUT.bytesPerBlock(), "llama-3.1-8b, f16") + note;
        Path stories = TierRestoreBenchmark.storiesPath().toAbsolutePath().normalize();
        if (Files.isReadable(stories)) {
            List<String> withRecompute = new ArrayList<>(tiers);
            withRecompute.add("recompute");
            ChainedOptionsBuilder s = new OptionsBuilder()
                    .include(TierRestoreBenchmark.class.getName() + "\\.")
                    .param("tier", withRecompute.toArray(new String[0]))
                    .param("model", "stories260K")
                    .jvmArgsAppend("-Dpagedkv.models.dir=" + stories.getParent())
                    .shouldFailOnError(true);
            if (quick) {
                s.warmupIterations(1).warmupTime(TimeValue.milliseconds(200))
                        .measurementIterations(1).measurementTime(TimeValue.milliseconds(200));
            }
            long bytes = new io.pagedkv.cache.CacheLayout(io.pagedkv.examples.llama.CheckpointReader.read(stories)
                    .config().shape("llama2.c"), io.pagedkv.dtype.KvDType.F32, 16).bytesPerBlock();
            md += "\n" + markdown(new Runner(s.build()).run(), bytes, "stories260K, f32, real weights");
        } else {
            md += "\nstories260K: not measured (" + stories + " absent): no recompute contender\n";
        }
        System.out.println(md);
        if (out != null) {
            Files.createDirectories(out);
            Files.writeString(out.resolve(quick ? "tiers-short.md" : "tiers.md"), md);
        }
    }

    static String markdown(Collection<RunResult> results, double blockBytes, String what) {
        Map<String, Result<?>> byTier = new LinkedHashMap<>();
        for (RunResult r : results) {
            byTier.put(r.getParams().getParam("tier"), r.getPrimaryResult());
        }
        Result<?> memcpy = byTier.get("memcpy");
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "restore of one %d-byte block (%s, 16 tokens), %d blocks round robin;"
                + " recompute: the decoder prefills a %d-block prefix per operation, counted per block%n%n",
                (long) blockBytes, what, TierRestoreBenchmark.BLOCKS, TierRestoreBenchmark.RECOMPUTE_BLOCKS));
        b.append("| tier | blocks/s | µs per block | GB/s (-equivalent) | vs memcpy |\n|---|---:|---:|---:|---:|\n");
        double memcpyBlocks = memcpy == null ? Double.NaN : memcpy.getScore();
        for (Map.Entry<String, Result<?>> e : byTier.entrySet()) {
            Result<?> r = e.getValue();
            double per = e.getKey().equals("recompute") ? TierRestoreBenchmark.RECOMPUTE_BLOCKS : 1;
            double blocks = r.getScore() * per;
            double gbs = blocks * blockBytes / 1e9;
            double err = Double.isNaN(r.getScoreError()) ? 0 : r.getScoreError() * per * blockBytes / 1e9;
            String ratio = memcpy == null ? "-" : String.format(Locale.ROOT, "%.4fx", blocks / memcpyBlocks);
            b.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.2f | %.3f ± %.3f | %s |%n", e.getKey(), blocks,
                    1e6 / blocks, gbs, err, ratio));
        }
        return b.toString();
    }
}
