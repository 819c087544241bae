package io.pagedkv.benchmarks.throughput;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.engine.KvWriter;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * Nanoseconds per decoded token to append one slot to a {@link Sequence} and write that token's K and
 * V for every layer (32 layers, 8 KV heads, head dim 128: Llama-3.1-8B), against plain
 * {@code MemorySegment.copy} of the same stored bytes (the physical limit), same run.
 *
 * <ul>
 *   <li>{@code sequenceAppendWrite}: {@code seq.append(1)} then {@code seq.write(layer, pos, k, v)}
 *       for each layer from {@code float[kvHeads * headDim]} arrays, as an engine's decode step does;
 *       the layout's codec encodes (F32: a copy; F16: a conversion).</li>
 *   <li>{@code stepWrite}: the step API's bulk path ({@link KvWriter}): per layer one
 *       {@code writer.write(plan, row, layer, token, 1, dtype, keys, values)} from segments already
 *       in the cache's dtype ({@code [kvHeads][headDim]}), through the plan's slot mapping, advancing
 *       the written mark; the plan is one 512-token row, planned and completed every 512 tokens
 *       (amortized, and measured).</li>
 *   <li>{@code stepWriteFromF32}: the same from {@code float[]} (the codec converts to F16).</li>
 *   <li>{@code stepWriteTokenRuns}, {@code stepWriteFromF32TokenRuns}: the same two into a cache whose
 *       blocks are in {@link BlockOrder#TOKEN_RUNS} (all heads of a token side by side): from segments
 *       in the cache's dtype the writer makes one copy of K and one of V per layer.</li>
 *   <li>{@code memoryCopy}: per layer, one copy of K and one of V of the stored bytes (already in the
 *       stored dtype) to consecutive memory: 64 bulk copies of 8 KiB (F32) or 4 KiB (F16).</li>
 *   <li>{@code headCopies}: the same bytes copied head by head to the offsets pagedkv's block layout
 *       gives them (per-head runs: 512 copies of 512 or 256 bytes), without block table, checks or
 *       codec: the cost of the layout alone.</li>
 *   <li>{@code tokenRunCopies}: the same bytes copied to the offsets of the other order a block can
 *       have, {@link BlockOrder#TOKEN_RUNS} (within a block, layer, K|V, slot, head: all heads of a
 *       token's K in one run, as FlashAttention's {@code [blocks, blockSize, heads, headDim]} cache):
 *       64 copies, without block table, checks or written mark.</li>
 * </ul>
 * Every variant cycles through {@value #TOKENS} tokens of memory (the sequence is closed and a new one
 * opened when full), so writes land in fresh cache lines as in a real decode.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenWriteBenchmark {

    /** Tokens of cache memory each variant cycles through. */
    public static final int TOKENS = 512;

    /** The KV storage type (BF16 stores the same bytes per head as F16, through its own codec). */
    @Param({"F16", "BF16", "F32"})
    public String dtype;

    private CacheLayout layout;
    private PagedKvCache cache;
    private Sequence seq;
    private float[][] keys;
    private float[][] values;
    private MemorySegment[] storedKeys;
    private MemorySegment[] storedValues;
    private Arena arena;
    private MemorySegment flat;
    private int layers;
    private int kvHeads;
    private long layerBytes;
    private long headBytes;
    private int copyPosition;
    private CacheLayout tokenRuns;
    private StepRow heads;
    private StepRow tokens;

    /** Builds the cache, the per-layer K/V vectors and their stored-dtype encodings, the copy target. */
    @Setup(Level.Trial)
    public void setUp() {
        layout = new CacheLayout(ModelShape.of("llama-3.1-8b", 32, 32, 8, 128), KvDType.parse(dtype), 16);
        layers = layout.shape().layers();
        kvHeads = layout.shape().kvHeads();
        headBytes = layout.headBytes();
        layerBytes = kvHeads * headBytes;
        int width = kvHeads * layout.shape().headDim();
        cache = new PagedKvCache(layout, (int) layout.blocksFor(TOKENS));
        // The pool reserves (zero-fills) its memory on first use: do it here, measure the steady state.
        seq = cache.openSequence();
        seq.append(TOKENS);
        seq.close();
        seq = cache.openSequence();
        arena = Arena.ofShared();
        flat = arena.allocate(TOKENS * layout.bytesPerToken());
        keys = new float[layers][width];
        values = new float[layers][width];
        storedKeys = new MemorySegment[layers];
        storedValues = new MemorySegment[layers];
        SplittableRandom random = new SplittableRandom(1);
        var codec = KvCodecs.of(layout.dtype());
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < width; i++) {
                keys[l][i] = (float) random.nextGaussian();
                values[l][i] = (float) random.nextGaussian();
            }
            storedKeys[l] = arena.allocate(layerBytes);
            storedValues[l] = arena.allocate(layerBytes);
            codec.encode(keys[l], 0, width, storedKeys[l], 0);
            codec.encode(values[l], 0, width, storedValues[l], 0);
        }
        heads = new StepRow(layout);
        tokenRuns = layout.withOrder(BlockOrder.TOKEN_RUNS);
        tokens = new StepRow(tokenRuns);
    }

    /** The step API over its own cache: one 512-token row, planned and completed every 512 tokens. */
    static final class StepRow {
        final PagedKvCache cache;
        final StepPlanner planner;
        final KvWriter writer;
        final int[] ids = new int[TOKENS + 1];
        StepPlan plan;
        StepSequence seq;
        int token;

        StepRow(CacheLayout layout) {
            // one more block for the admission's room for a generated token
            cache = new PagedKvCache(layout, (int) layout.blocksFor(TOKENS + 1L));
            cache.setPrefixCaching(false);
            planner = new StepPlanner(cache, 0);
            writer = planner.newWriter();
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i + 1;
            }
            plan(); // reserves (zero-fills) the memory here: the steady state is measured
        }

        /** A fresh 512-token row: admit, schedule, plan. */
        private void plan() {
            seq = planner.admit(ids, TOKENS, PrefixKeys.NONE);
            planner.schedule(seq, ids, 0, TOKENS);
            plan = planner.plan();
            token = 0;
        }

        /** The next token of the row; a full row is completed and released, and a new one planned. */
        int next() {
            if (token == TOKENS) {
                planner.complete(plan);
                planner.release(seq);
                plan();
            }
            return token++;
        }
    }

    /** Frees the caches and the copy target. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        heads.cache.close();
        tokens.cache.close();
        arena.close();
    }

    /** Append one slot and write its K/V in every layer through the sequence. */
    @Benchmark
    public int sequenceAppendWrite() {
        if (seq.length() == TOKENS) {
            seq.close();
            seq = cache.openSequence();
        }
        seq.append(1);
        int pos = seq.length() - 1;
        for (int l = 0; l < layers; l++) {
            seq.write(l, pos, keys[l], values[l]);
        }
        return pos;
    }

    /** One token's K/V in every layer through the step API's bulk writer, from segments in the cache's dtype. */
    @Benchmark
    public int stepWrite() {
        return stepWrite(heads);
    }

    /** The same into a {@link BlockOrder#TOKEN_RUNS} cache: one copy of K and one of V per layer. */
    @Benchmark
    public int stepWriteTokenRuns() {
        return stepWrite(tokens);
    }

    private int stepWrite(StepRow row) {
        int t = row.next();
        KvDType dtype = layout.dtype();
        for (int l = 0; l < layers; l++) {
            row.writer.write(row.plan, 0, l, t, 1, dtype, storedKeys[l], 0, storedValues[l], 0);
        }
        return t;
    }

    /** The same from {@code float[]}: the codec converts (F16) or copies (F32). */
    @Benchmark
    public int stepWriteFromF32() {
        return stepWriteFromF32(heads);
    }

    /** The same from {@code float[]} into a {@link BlockOrder#TOKEN_RUNS} cache (the codec, head by head). */
    @Benchmark
    public int stepWriteFromF32TokenRuns() {
        return stepWriteFromF32(tokens);
    }

    private int stepWriteFromF32(StepRow row) {
        int t = row.next();
        for (int l = 0; l < layers; l++) {
            row.writer.write(row.plan, 0, l, t, 1, keys[l], 0, values[l], 0);
        }
        return t;
    }

    /** The same stored bytes as two bulk copies per layer into consecutive memory. */
    @Benchmark
    public int memoryCopy() {
        int pos = nextCopyPosition();
        long base = pos * layout.bytesPerToken();
        for (int l = 0; l < layers; l++) {
            MemorySegment.copy(storedKeys[l], 0, flat, base + 2 * l * layerBytes, layerBytes);
            MemorySegment.copy(storedValues[l], 0, flat, base + (2 * l + 1) * layerBytes, layerBytes);
        }
        return pos;
    }

    /** The same stored bytes copied head by head to pagedkv's in-block offsets. */
    @Benchmark
    public int headCopies() {
        int pos = nextCopyPosition();
        int slot = pos % layout.blockSize();
        long block = (long) (pos / layout.blockSize()) * layout.bytesPerBlock();
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < kvHeads; h++) {
                MemorySegment.copy(storedKeys[l], h * headBytes, flat,
                        block + layout.offset(l, CacheLayout.K, h, slot), headBytes);
                MemorySegment.copy(storedValues[l], h * headBytes, flat,
                        block + layout.offset(l, CacheLayout.V, h, slot), headBytes);
            }
        }
        return pos;
    }

    /** The same stored bytes copied to per-token-run offsets: K and V of all heads of a token in one run per layer. */
    @Benchmark
    public int tokenRunCopies() {
        int pos = nextCopyPosition();
        int slot = pos % tokenRuns.blockSize();
        long block = (long) (pos / tokenRuns.blockSize()) * tokenRuns.bytesPerBlock();
        for (int l = 0; l < layers; l++) {
            MemorySegment.copy(storedKeys[l], 0, flat, block + tokenRuns.offset(l, CacheLayout.K, 0, slot), layerBytes);
            MemorySegment.copy(storedValues[l], 0, flat, block + tokenRuns.offset(l, CacheLayout.V, 0, slot), layerBytes);
        }
        return pos;
    }

    private int nextCopyPosition() {
        int pos = copyPosition;
        copyPosition = pos + 1 == TOKENS ? 0 : pos + 1;
        return pos;
    }
}
