package io.pagedkv.attention;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Decode attention over contiguous memory: the keys of each KV head in one segment, the values in
 * another, token {@code t} at byte {@code t * dtype.bytesFor(headDim)}, encoded in a {@link KvDType}
 * exactly as a block's head run is. It runs the same engine as {@link PagedAttention} (the same
 * Vector API loops, tile by tile), over one run per head instead of one per block: the honest
 * baseline against which the cost of the block table is measured, and what an engine that keeps a
 * contiguous cache per sequence would run.
 *
 * <p>Not thread-safe: an instance owns its scratch. Nothing is allocated per call.
 *
 * <pre>{@code
 * SegmentAttention a = SegmentAttention.create(shape, KvDType.Q8_0);
 * a.decode(keysPerHead, valuesPerHead, tokens, q, 0, out, 0, null);
 * }</pre>
 */
public final class SegmentAttention {

    private final ModelShape shape;
    private final KvDType dtype;
    private final KvCodec codec;
    private final AttentionEngine engine;
    private final int headBytes;
    private final int tile;

    private SegmentAttention(ModelShape shape, KvDType dtype, AttentionEngine engine) {
        this.shape = shape;
        this.dtype = dtype;
        this.codec = KvCodecs.of(dtype);
        this.engine = engine;
        this.headBytes = dtype.bytesFor(shape.headDim());
        this.tile = engine.tileSlots();
    }

    /**
     * A kernel for {@code shape} over segments of {@code dtype} (unscaled), on the fastest loops available.
     *
     * @throws IllegalArgumentException if an argument is null or the head dim is not a whole number of dtype groups
     */
    public static SegmentAttention create(ModelShape shape, KvDType dtype) {
        check(shape, dtype);
        return new SegmentAttention(shape, dtype, Engines.best(shape, dtype));
    }

    /** The same kernel on the scalar reference loops. */
    public static SegmentAttention scalar(ModelShape shape, KvDType dtype) {
        check(shape, dtype);
        return new SegmentAttention(shape, dtype, new ScalarAttentionEngine(shape, dtype.bytesFor(shape.headDim())));
    }

    private static void check(ModelShape shape, KvDType dtype) {
        if (shape == null || dtype == null) {
            throw new IllegalArgumentException("shape, dtype: " + shape + ", " + dtype + " (expected: both non-null)");
        }
        if (!dtype.supports(shape.headDim())) {
            throw new IllegalArgumentException("headDim: " + shape.headDim() + " (expected: a multiple of the "
                    + dtype.label() + " group size " + dtype.groupSize() + ")");
        }
    }

    /** Which loops this kernel runs: {@code scalar} or {@code vector(N lanes)}. */
    public String loops() {
        return engine.loops();
    }

    /** The dtype of the segments. */
    public KvDType dtype() {
        return dtype;
    }

    /**
     * Attends one query token (all query heads) over {@code tokens} tokens.
     *
     * @param keys one segment per KV head, each holding at least {@code tokens} encoded head vectors
     * @param values same, for the values
     * @param tokens context length, {@code >= 0}
     * @param q {@code queryHeads * headDim} query values from {@code qOff}
     * @param out receives {@code queryHeads * headDim} values from {@code outOff}
     * @param weights null, or receives the normalised weights {@code weights[qh * tokens + t]}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void decode(MemorySegment[] keys, MemorySegment[] values, int tokens, float[] q, int qOff, float[] out,
            int outOff, float[] weights) {
        int kvHeads = shape.kvHeads();
        int width = shape.queryHeads() * shape.headDim();
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        checkSegments("keys", keys, kvHeads, (long) tokens * headBytes);
        checkSegments("values", values, kvHeads, (long) tokens * headBytes);
        if (q == null || qOff < 0 || (long) qOff + width > q.length) {
            throw new IndexOutOfBoundsException("q: offset " + qOff + " + length " + width + " (expected: within the array of "
                    + (q == null ? "null" : q.length) + ")");
        }
        if (out == null || outOff < 0 || (long) outOff + width > out.length) {
            throw new IndexOutOfBoundsException("out: offset " + outOff + " + length " + width
                    + " (expected: within the array of " + (out == null ? "null" : out.length) + ")");
        }
        if (weights != null && weights.length < (long) shape.queryHeads() * tokens) {
            throw new IllegalArgumentException("weights: " + weights.length + " floats (expected: >= queryHeads x tokens = "
                    + (long) shape.queryHeads() * tokens + ")");
        }
        if (tokens == 0) {
            Arrays.fill(out, outOff, outOff + width, 0f);
            return;
        }
        engine.begin(q, qOff, 1, tokens - 1, weights, tokens);
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            MemorySegment k = keys[kvh];
            MemorySegment v = values[kvh];
            for (int t0 = 0; t0 < tokens; t0 += tile) {
                long off = (long) t0 * headBytes;
                engine.tile(kvh, codec, codec, k, off, v, off, t0, Math.min(tile, tokens - t0), null);
            }
        }
        engine.finish(out, outOff);
    }

    private static void checkSegments(String what, MemorySegment[] segs, int kvHeads, long bytes) {
        if (segs == null || segs.length < kvHeads) {
            throw new IllegalArgumentException(what + ": " + (segs == null ? "null" : segs.length + " segments")
                    + " (expected: one per KV head, " + kvHeads + ")");
        }
        for (int h = 0; h < kvHeads; h++) {
            if (segs[h] == null || segs[h].byteSize() < bytes) {
                throw new IllegalArgumentException(what + "[" + h + "]: " + (segs[h] == null ? "null" : segs[h].byteSize()
                        + " bytes") + " (expected: >= tokens x head bytes = " + bytes + ")");
            }
        }
    }
}
