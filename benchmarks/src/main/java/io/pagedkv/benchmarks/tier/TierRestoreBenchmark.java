package io.pagedkv.benchmarks.tier;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.CheckpointReader;
import io.pagedkv.examples.llama.LlamaDecoder;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.PagedKvStore;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.redis.RedisBlockStore;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.BlockStore;
import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.FileBlockStore;
import io.pagedkv.tier.HostMemoryStore;
import io.pagedkv.tier.LayoutFingerprint;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Restores one KV block per operation from a tier into a block-sized destination, round robin over
 * {@link #BLOCKS} stored blocks (a working set larger than the CPU caches), against a plain
 * {@code MemorySegment.copy} of the same bytes from the same source blocks ({@code tier=memcpy}).
 *
 * <p>Blocks are Llama-3.1-8B's, F16, 16 tokens: 32 layers x 2 x 8 KV heads x 128 x 2 B x 16 =
 * 2 MiB each. Every tier's get verifies the value (framing, CRC32C over the whole value, key fields,
 * the 16 token ids) before it counts as a hit; the host tier then copies, the file tier reads the
 * file (from the page cache: the files were just written) straight into the destination, the Redis
 * tier fetches the value over loopback from a redis-server of its own and copies. {@code host-queue}
 * is the host tier behind a {@link BlockTransferQueue} (one worker, staging buffer, a bounded wait):
 * the path the scheduler would take. GB/s = ops/s x 2 MiB; {@link TierResults} prints the table.
 *
 * <p>{@code model=stories260K} runs every contender on the blocks of the real stories260K model (F32,
 * 16 tokens: 5 layers x 2 x 4 KV heads x 8 x 4 B x 16 = 20,480 B a block), plus the third kind of
 * contender, {@code tier=recompute}: what a miss costs, recomputing the K/V with the decoder. One
 * operation of it prefills a {@link #RECOMPUTE_BLOCKS}-block prefix ({@code 64} tokens) with the real
 * weights into a fresh paged cache of its own, so a block costs a quarter of an operation ({@link
 * TierResults} divides). The checkpoint is read from {@code pagedkv.models.dir} (default
 * {@code ../shared/models}); without it the stories260K run fails at setup.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TierRestoreBenchmark {

    /** Stored blocks restored round robin: 64 MiB. */
    public static final int BLOCKS = 32;
    /** The layout of every block of {@code model=llama-3.1-8b}. */
    public static final CacheLayout LAYOUT = CacheLayout.of(ModelPresets.LLAMA_3_1_8B, KvDType.F16);
    /** Blocks one {@code tier=recompute} operation prefills. */
    public static final int RECOMPUTE_BLOCKS = 4;

    /** Where the block comes from ({@code recompute}: the decoder computes it; stories260K only). */
    @Param({"memcpy", "host", "host-queue", "file", "redis"})
    public String tier;

    /** Whose blocks: {@code llama-3.1-8b} (shape only, synthetic bytes) or {@code stories260K} (real weights). */
    @Param({"llama-3.1-8b"})
    public String model;

    private CacheLayout layout;
    private LlamaWeights weights;
    private int[] prefix;
    private Arena arena;
    private MemorySegment[] sources;
    private MemorySegment dst;
    private BlockKey[] keys;
    private int[] tokens;
    private BlockStore store;
    private BlockTransferQueue queue;
    private RedisProcess redis;
    private Path dir;
    private int next;

    /** Fills the source blocks and stores them in the tier under test. */
    @Setup(Level.Trial)
    public void setup() throws IOException, InterruptedException {
        layout = switch (model) {
            case "llama-3.1-8b" -> LAYOUT;
            case "stories260K" -> {
                weights = CheckpointReader.read(storiesPath());
                prefix = new int[RECOMPUTE_BLOCKS * 16];
                for (int i = 0; i < prefix.length; i++) {
                    prefix[i] = i == 0 ? 1 : 3 + (i * 37) % 500;
                }
                yield new CacheLayout(weights.config().shape("llama2.c"), KvDType.F32, 16);
            }
            default -> throw new IllegalArgumentException("model: " + model + " (expected: llama-3.1-8b or stories260K)");
        };
        if (tier.equals("recompute") && weights == null) {
            throw new IllegalArgumentException("tier: recompute with model " + model
                    + " (expected: model stories260K, whose weights are here)");
        }
        int bytes = (int) layout.bytesPerBlock();
        arena = Arena.ofShared();
        sources = new MemorySegment[BLOCKS];
        keys = new BlockKey[BLOCKS];
        tokens = new int[layout.blockSize()];
        LayoutFingerprint fp = LayoutFingerprint.of(layout);
        for (int b = 0; b < BLOCKS; b++) {
            sources[b] = arena.allocate(bytes, 64);
            for (long i = 0; i < bytes; i += 8) {
                sources[b].set(ValueLayout.JAVA_LONG_UNALIGNED, i, (b + 1) * 0x9E3779B97F4A7C15L ^ i);
            }
            keys[b] = fp.key(b * 7919L + 1, 0);
        }
        dst = arena.allocate(bytes, 64);
        store = switch (tier) {
            case "memcpy", "recompute" -> null;
            case "host", "host-queue" -> HostMemoryStore.forLayout(layout, (long) (BLOCKS + 1) * (bytes + 4096));
            case "file" -> {
                dir = Files.createTempDirectory("pagedkv-bench-file-tier");
                yield FileBlockStore.open(dir, (long) (BLOCKS + 1) * (bytes + 4096));
            }
            case "redis" -> {
                redis = RedisProcess.start();
                yield RedisBlockStore.connect(redis.url());
            }
            default -> throw new IllegalArgumentException("tier: " + tier
                    + " (expected: memcpy, host, host-queue, file, redis, recompute)");
        };
        if (store != null) {
            for (int b = 0; b < BLOCKS; b++) {
                if (!store.put(keys[b], b, tokens, 0, tokens.length, sources[b])) {
                    throw new IllegalStateException(tier + ": put of block " + b + " refused: " + store.stats());
                }
            }
        }
        if (tier.equals("host-queue")) {
            queue = BlockTransferQueue.forLayout(store, layout, 4, 4, 1);
        }
    }

    /** The stories260K checkpoint under {@code pagedkv.models.dir} (default {@code ../shared/models}). */
    static Path storiesPath() {
        return Path.of(System.getProperty("pagedkv.models.dir", "../shared/models"), "stories260K.bin");
    }

    /** Restores the next block; returns the bytes restored (a negative code would fail the check below). */
    @Benchmark
    public int restore() throws InterruptedException {
        int b = next;
        next = b + 1 == BLOCKS ? 0 : b + 1;
        int r;
        if (weights != null && tier.equals("recompute")) {
            try (PagedKvStore kv = new PagedKvStore(weights.config(), KvDType.F32, 16, prefix.length)) {
                new LlamaDecoder(weights, kv).prefill(prefix);
                MemorySegment.copy(kv.cache().block(0), 0, dst, 0, dst.byteSize()); // the first block, as restored
            }
            return (int) dst.byteSize();
        }
        if (store == null) {
            MemorySegment.copy(sources[b], 0, dst, 0, dst.byteSize());
            r = (int) dst.byteSize();
        } else if (queue != null) {
            r = queue.restore(keys[b], b, tokens, 0, tokens.length, dst, 10, TimeUnit.SECONDS);
        } else {
            r = store.get(keys[b], b, tokens, 0, tokens.length, dst);
        }
        if (r != dst.byteSize()) {
            throw new IllegalStateException(tier + ": restore of block " + b + " answered " + r);
        }
        return r;
    }

    /** Checks the last restore was byte-exact, then frees everything. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        int last = next == 0 ? BLOCKS - 1 : next - 1;
        if (!tier.equals("recompute") && dst.mismatch(sources[last]) != -1) {
            throw new IllegalStateException(tier + ": block " + last + " restored other bytes");
        }
        if (queue != null) {
            queue.close();
        }
        if (store != null) {
            store.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        arena.close();
    }
}
