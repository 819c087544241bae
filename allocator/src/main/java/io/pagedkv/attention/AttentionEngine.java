package io.pagedkv.attention;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;

/**
 * The inner loops shared by every attention driver: an online-softmax pass of up to
 * {@link PagedAttention#QUERY_TILE} queries over tiles of consecutive token slots of one KV head. A
 * driver ({@link PagedAttention} over a block table, {@link SegmentAttention} over one contiguous
 * segment per head) calls {@link #begin}, then {@link #tile} for every run of slots in any order of
 * heads and slots, then {@link #finish}; both drivers run exactly this code, so the difference between
 * them is what the block table costs.
 *
 * <p>Slots: the driver passes a tile's first key (value) vector of one KV head; the next slot's vector
 * is {@link #slotStride} bytes further: one head vector in a contiguous segment or a
 * {@link io.pagedkv.cache.BlockOrder#HEAD_RUNS} block, all KV heads of a token in a
 * {@link io.pagedkv.cache.BlockOrder#TOKEN_RUNS} block ({@link io.pagedkv.cache.CacheLayout#slotStrideBytes()}).
 * The stride is fixed per engine, so the loops are the same for both orders.
 *
 * <p>Visibility: slot {@code s} has position {@code positions[s]} ({@code s} when {@code positions}
 * is null); query {@code i} sees the slot iff that position is {@code >= 0} (not
 * {@link PagedAttention#HOLE}) and {@code <= queryPosition(i)}. A query that sees no slot gets zeros.
 *
 * <p>Not thread-safe: an engine owns its scratch. Allocates nothing per call.
 */
abstract class AttentionEngine {

    final int queryHeads;
    final int kvHeads;
    final int group;
    final int headDim;
    final float scale;
    /** Bytes from one slot's head vector to the next slot's, in what drivers pass (at least a head vector). */
    final long slotStride;

    AttentionEngine(ModelShape shape, long slotStride) {
        this.queryHeads = shape.queryHeads();
        this.kvHeads = shape.kvHeads();
        this.group = shape.queryHeadsPerKvHead();
        this.headDim = shape.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.slotStride = slotStride;
    }

    /** Most slots one {@link #tile} call takes. */
    abstract int tileSlots();

    /**
     * Starts a pass of {@code nq} queries: query {@code i}, head {@code qh} at {@code q[qOff + (i *
     * queryHeads + qh) * headDim]}, at position {@code firstPosition + i} ({@link Integer#MAX_VALUE}
     * sees every live slot). {@code weights} (decode only, {@code nq == 1}) is null or receives the
     * normalised weights {@code weights[qh * weightSlots + s]}.
     */
    abstract void begin(float[] q, int qOff, int nq, int firstPosition, float[] weights, int weightSlots);

    /**
     * Folds slots {@code slotBase .. slotBase + n - 1} ({@code 1 <= n <= tileSlots()}) of KV head
     * {@code kvh}: their keys start at byte {@code keyOff} of {@code keys}, their values at
     * {@code valueOff} of {@code values}, one head vector ({@code dtype.bytesFor(headDim)} bytes)
     * per slot, {@link #slotStride} bytes apart, encoded by {@code keyCodec} and {@code valueCodec}: {@link #keys} then {@link #values}.
     */
    final void tile(int kvh, KvCodec keyCodec, KvCodec valueCodec, MemorySegment keys, long keyOff,
            MemorySegment values, long valueOff, int slotBase, int n, int[] positions) {
        keys(kvh, keyCodec, keys, keyOff, slotBase, n, positions);
        values(kvh, valueCodec, values, valueOff, n);
    }

    /**
     * The first half of {@link #tile}: scores the tile's keys against the KV head's query rows and
     * folds them into the rows' softmax state, keeping the tile's probabilities per row. Other heads'
     * {@code keys} may run before this head's {@link #values} (a paged block is then read in memory
     * order: every head's keys, then every head's values).
     */
    abstract void keys(int kvh, KvCodec keyCodec, MemorySegment keys, long keyOff, int slotBase, int n, int[] positions);

    /** The second half of {@link #tile}: adds the tile's {@code n} values, weighted, to the head's rows. */
    abstract void values(int kvh, KvCodec valueCodec, MemorySegment values, long valueOff, int n);

    /** Writes every query head's output from {@code outOff} (token-major, as {@code q}) and normalises the weights. */
    abstract void finish(float[] out, int outOff);

    /** Which loops this engine runs, e.g. {@code scalar} or {@code vector(16 lanes)}. */
    abstract String loops();
}
