package io.pagedkv.engine;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import java.lang.foreign.MemorySegment;

/**
 * Writes a step's K/V into the cache in bulk: a chunk of one row's new tokens for one layer, from the
 * engine's natural {@code [tokens][kvHeads][headDim]} layout, through the plan's slot mapping, into
 * the writable blocks the planner resolved, then advances the row's written mark of that layer.
 *
 * <p>Sources: {@code float[]}, or a {@link MemorySegment} of little-endian {@link KvDType#F32},
 * {@link KvDType#F16} or {@link KvDType#BF16} values. A source of the cache's own dtype (F32 into an
 * F32 cache, F16 into F16, BF16 into BF16) is copied byte for byte: head by head into a
 * {@link BlockOrder#HEAD_RUNS} cache, and into a {@link BlockOrder#TOKEN_RUNS} cache as one copy of K
 * and one of V per block the chunk touches (the source's {@code [tokens][kvHeads][headDim]} is then the
 * block's own order). Any other pair goes through the cache's codec of each (layer, K|V, head), so
 * per-head FP8 scales apply, at the offsets of the cache's order.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Each (row, layer) is written by one thread at a time, its tokens in order ({@code from} is the
 *       number of the row's new tokens already written in that layer): the written mark then never
 *       covers a slot that is not written. Distinct (row, layer) pairs may be written by any number of
 *       writers at once, without any lock of the planner.</li>
 *   <li>Everything is checked before the first byte moves (plan in flight, row, layer, range, source
 *       size and dtype, and for Q8_0/Q4_0 caches every value encodable), so a refused write leaves the
 *       cache and the marks exactly as they were.</li>
 *   <li>Nothing is allocated per call.</li>
 * </ul>
 *
 * <p>Not thread-safe (it keeps a scratch vector): one writer per worker thread, from
 * {@link StepPlanner#newWriter()}.
 */
public final class KvWriter {

    private final StepPlanner planner;
    private final CacheLayout layout;
    private final KvDType cacheType;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int blockSize;
    private final long cacheHeadBytes;
    /** Bytes from head h to h + 1 of a slot, and from slot s to s + 1 of a head, in the cache's order. */
    private final long headStride;
    private final long slotStride;
    /** The cache's order is TOKEN_RUNS: consecutive slots of a (layer, K|V) are consecutive token runs. */
    private final boolean tokenRuns;
    /** Bytes of one layer's K (or V) part of a block: layer l's K starts at {@code 2 * l * partBytes}, its V one part later. */
    private final long partBytes;
    /** Bytes of one head of a source: F32, and F16 or BF16 (precomputed: a write is a few dozen ns, a division counts). */
    private final long f32HeadBytes;
    private final long halfHeadBytes;
    private final boolean quantized;
    /** (layer * 2 + kv) * kvHeads + head. */
    private final KvCodec[] codecs;
    private final KvCodec f32;
    private final KvCodec f16;
    private final KvCodec bf16;
    private final float[] scratch;

    KvWriter(StepPlanner planner) {
        PagedKvCache cache = planner.cache();
        this.planner = planner;
        this.layout = cache.layout();
        this.cacheType = layout.dtype();
        this.layers = layout.shape().layers();
        this.kvHeads = layout.shape().kvHeads();
        this.headDim = layout.shape().headDim();
        this.blockSize = layout.blockSize();
        this.cacheHeadBytes = layout.headBytes();
        this.headStride = layout.headStrideBytes();
        this.slotStride = layout.slotStrideBytes();
        this.tokenRuns = layout.order() == BlockOrder.TOKEN_RUNS;
        this.partBytes = layout.partBytes();
        this.f32HeadBytes = KvDType.F32.bytesFor(headDim);
        this.halfHeadBytes = KvDType.F16.bytesFor(headDim);
        this.quantized = cacheType.isBlockQuantized();
        this.codecs = new KvCodec[layers * 2 * kvHeads];
        for (int l = 0; l < layers; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < kvHeads; h++) {
                    codecs[(l * 2 + kv) * kvHeads + h] = cache.codec(l, kv, h);
                }
            }
        }
        this.f32 = KvCodecs.of(KvDType.F32);
        this.f16 = KvCodecs.of(KvDType.F16);
        this.bf16 = KvCodecs.of(KvDType.BF16);
        this.scratch = new float[headDim];
    }

    /**
     * Writes new tokens {@code [from, from + count)} of {@code row} in {@code layer} (as numbered within
     * the row's step: 0 is the token at {@link StepPlan#contextLength(int)}) from {@code count} tokens of
     * {@code kvHeads * headDim} values each in {@code source}'s dtype at byte {@code keysOffset} of
     * {@code keys} and {@code valuesOffset} of {@code values}.
     *
     * @throws IllegalArgumentException if the plan is not of this writer's planner, {@code count <= 0},
     *     the range is outside the row's new tokens, a source is too short, the source dtype is not
     *     F32, F16 or BF16, or a value cannot be encoded (Q8_0/Q4_0: NaN, infinity)
     * @throws IndexOutOfBoundsException if the row or the layer is out of range
     * @throws IllegalStateException if the plan is not in flight, or {@code from} is not the number of
     *     the row's tokens already written in that layer
     */
    public void write(StepPlan plan, int row, int layer, int from, int count, KvDType source, MemorySegment keys,
            long keysOffset, MemorySegment values, long valuesOffset) {
        StepSequence s = checkChunk(plan, row, layer, from, count);
        long srcHeadBytes = sourceHeadBytes(source);
        long tokenBytes = kvHeads * srcHeadBytes;
        checkSegment("keys", keys, keysOffset, count * tokenBytes);
        checkSegment("values", values, valuesOffset, count * tokenBytes);
        if (quantized) {
            checkEncodable(source, layer, keys, keysOffset, values, valuesOffset, count, srcHeadBytes);
        }
        writeChunk(s, layer, from, count, source, keys, keysOffset, values, valuesOffset, srcHeadBytes);
        plan.advance(row, layer, from + count);
    }

    /**
     * Writes new tokens {@code [from, from + count)} of {@code row} in {@code layer} from
     * {@code count * kvHeads * headDim} floats at {@code keys[keysOffset ..)} and
     * {@code values[valuesOffset ..)}; see the segment variant.
     */
    public void write(StepPlan plan, int row, int layer, int from, int count, float[] keys, int keysOffset,
            float[] values, int valuesOffset) {
        StepSequence s = checkChunk(plan, row, layer, from, count);
        int width = kvHeads * headDim;
        checkArray("keys", keys, keysOffset, (long) count * width);
        checkArray("values", values, valuesOffset, (long) count * width);
        if (quantized) {
            for (int i = 0; i < count; i++) {
                for (int h = 0; h < kvHeads; h++) {
                    int o = i * width + h * headDim;
                    codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].checkEncodable(keys, keysOffset + o, headDim);
                    codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].checkEncodable(values, valuesOffset + o, headDim);
                }
            }
        }
        int kBase = (layer * 2 + CacheLayout.K) * kvHeads;
        int vBase = (layer * 2 + CacheLayout.V) * kvHeads;
        long layerK = 2L * layer * partBytes; // layout.unsafeOffset(layer, K, 0, 0)
        long layerV = layerK + partBytes;
        for (int i = 0; i < count; i++) {
            int pos = s.stepStart + from + i;
            MemorySegment dst = s.stepBlocks[pos / blockSize - s.firstNewBlock];
            long slot = (long) (pos % blockSize) * slotStride;
            int o = i * width;
            for (int h = 0; h < kvHeads; h++) {
                long run = h * headStride + slot;
                codecs[kBase + h].encode(keys, keysOffset + o + h * headDim, headDim, dst, layerK + run);
                codecs[vBase + h].encode(values, valuesOffset + o + h * headDim, headDim, dst, layerV + run);
            }
        }
        plan.advance(row, layer, from + count);
    }

    /**
     * Writes every new token of the plan in {@code layer} (vLLM's {@code reshape_and_cache}): token
     * {@code q} of the flat batch ({@link StepPlan#queryStartLoc()}) at byte
     * {@code q * kvHeads * bytesFor(headDim)} of {@code keys} and {@code values}. Every row must have
     * none of its tokens written in this layer yet; everything is checked before anything is written.
     *
     * @throws IllegalArgumentException as the chunk variant, for any row
     * @throws IndexOutOfBoundsException if the layer is out of range
     * @throws IllegalStateException if the plan is not in flight, or a row already has tokens written in
     *     this layer
     */
    public void writeLayer(StepPlan plan, int layer, KvDType source, MemorySegment keys, MemorySegment values) {
        checkPlan(plan);
        plan.checkLayer(layer);
        long srcHeadBytes = sourceHeadBytes(source);
        long tokenBytes = kvHeads * srcHeadBytes;
        checkSegment("keys", keys, 0, plan.tokens() * tokenBytes);
        checkSegment("values", values, 0, plan.tokens() * tokenBytes);
        int rows = plan.rows();
        for (int r = 0; r < rows; r++) {
            checkChunk(plan, r, layer, 0, plan.queryLength(r));
        }
        if (quantized) {
            checkEncodable(source, layer, keys, 0, values, 0, plan.tokens(), srcHeadBytes);
        }
        for (int r = 0; r < rows; r++) {
            long off = plan.queryStart(r) * tokenBytes;
            int n = plan.queryLength(r);
            writeChunk(plan.sequenceAt(r), layer, 0, n, source, keys, off, values, off, srcHeadBytes);
            plan.advance(r, layer, n);
        }
    }

    private void writeChunk(StepSequence s, int layer, int from, int count, KvDType source, MemorySegment keys,
            long keysOffset, MemorySegment values, long valuesOffset, long srcHeadBytes) {
        long tokenBytes = kvHeads * srcHeadBytes;
        int kBase = (layer * 2 + CacheLayout.K) * kvHeads;
        int vBase = (layer * 2 + CacheLayout.V) * kvHeads;
        long layerK = 2L * layer * partBytes; // layout.unsafeOffset(layer, K, 0, 0)
        long layerV = layerK + partBytes;
        boolean raw = source == cacheType;
        if (raw && tokenRuns) {
            // The source's [tokens][kvHeads][headDim] is the block's (layer, K|V) order: one copy per block.
            for (int i = 0; i < count; ) {
                int pos = s.stepStart + from + i;
                int slot = pos % blockSize;
                int n = Math.min(count - i, blockSize - slot);
                MemorySegment dst = s.stepBlocks[pos / blockSize - s.firstNewBlock];
                long at = slot * slotStride;
                MemorySegment.copy(keys, keysOffset + i * tokenBytes, dst, layerK + at, n * tokenBytes);
                MemorySegment.copy(values, valuesOffset + i * tokenBytes, dst, layerV + at, n * tokenBytes);
                i += n;
            }
            return;
        }
        KvCodec decoder = source == KvDType.F16 ? f16 : bf16;
        for (int i = 0; i < count; i++) {
            int pos = s.stepStart + from + i;
            MemorySegment dst = s.stepBlocks[pos / blockSize - s.firstNewBlock];
            long slot = (long) (pos % blockSize) * slotStride;
            long ko = keysOffset + i * tokenBytes;
            long vo = valuesOffset + i * tokenBytes;
            for (int h = 0; h < kvHeads; h++) {
                long run = h * headStride + slot;
                long srcHead = h * srcHeadBytes;
                if (raw) {
                    MemorySegment.copy(keys, ko + srcHead, dst, layerK + run, cacheHeadBytes);
                    MemorySegment.copy(values, vo + srcHead, dst, layerV + run, cacheHeadBytes);
                } else if (source == KvDType.F32) {
                    codecs[kBase + h].encode(keys, ko + srcHead, headDim, dst, layerK + run);
                    codecs[vBase + h].encode(values, vo + srcHead, headDim, dst, layerV + run);
                } else {
                    decoder.decode(keys, ko + srcHead, headDim, scratch, 0);
                    codecs[kBase + h].encode(scratch, 0, headDim, dst, layerK + run);
                    decoder.decode(values, vo + srcHead, headDim, scratch, 0);
                    codecs[vBase + h].encode(scratch, 0, headDim, dst, layerV + run);
                }
            }
        }
    }

    /** Every head of {@code count} tokens must encode in a block-quantized cache (checked before any write). */
    private void checkEncodable(KvDType source, int layer, MemorySegment keys, long keysOffset, MemorySegment values,
            long valuesOffset, int count, long srcHeadBytes) {
        KvCodec decoder = source == KvDType.F32 ? f32 : source == KvDType.F16 ? f16 : bf16;
        long tokenBytes = kvHeads * srcHeadBytes;
        for (int i = 0; i < count; i++) {
            for (int h = 0; h < kvHeads; h++) {
                decoder.decode(keys, keysOffset + i * tokenBytes + h * srcHeadBytes, headDim, scratch, 0);
                codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].checkEncodable(scratch, 0, headDim);
                decoder.decode(values, valuesOffset + i * tokenBytes + h * srcHeadBytes, headDim, scratch, 0);
                codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].checkEncodable(scratch, 0, headDim);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // checks

    private void checkPlan(StepPlan plan) {
        if (plan == null || plan.planner() != planner) {
            throw new IllegalArgumentException("plan: " + plan + " (expected: a plan of this writer's planner)");
        }
    }

    private StepSequence checkChunk(StepPlan plan, int row, int layer, int from, int count) {
        checkPlan(plan);
        plan.checkRow(row);
        plan.checkLayer(layer);
        int n = plan.queryLength(row);
        if (count <= 0 || from < 0 || from > n - count) {
            throw new IllegalArgumentException("tokens: from " + from + ", count " + count + " (expected: count > 0"
                    + " within the row's " + n + " new tokens)");
        }
        int done = plan.progress(row, layer);
        if (from != done) {
            throw new IllegalStateException("row " + row + " layer " + layer + ": from " + from + " (expected: " + done
                    + ", the row's new tokens already written in this layer; each (row, layer) is written in order)");
        }
        return plan.sequenceAt(row);
    }

    private long sourceHeadBytes(KvDType source) {
        if (source == KvDType.F32) {
            return f32HeadBytes;
        }
        if (source != KvDType.F16 && source != KvDType.BF16) {
            throw new IllegalArgumentException("source: " + source + " (expected: F32, F16 or BF16)");
        }
        return halfHeadBytes;
    }

    private static void checkSegment(String what, MemorySegment s, long offset, long bytes) {
        if (s == null) {
            throw new IllegalArgumentException(what + ": null (expected: a segment of " + bytes + " bytes)");
        }
        if (offset < 0 || offset > s.byteSize() - bytes) {
            throw new IllegalArgumentException(what + ": " + bytes + " bytes at offset " + offset + " (expected: within"
                    + " the segment's " + s.byteSize() + " bytes)");
        }
    }

    private static void checkArray(String what, float[] a, int offset, long floats) {
        if (a == null) {
            throw new IllegalArgumentException(what + ": null (expected: " + floats + " floats)");
        }
        if (offset < 0 || offset > a.length - floats) {
            throw new IllegalArgumentException(what + ": " + floats + " floats at offset " + offset + " (expected:"
                    + " within the array's " + a.length + ")");
        }
    }

    @Override
    public String toString() {
        return "KvWriter[" + layout.shape().name() + ", " + cacheType + "]";
    }

}
