package io.pagedkv.cache;

/**
 * The order of the head vectors inside one (layer, K|V) part of a block: which of a KV head's slots
 * or a token's heads lie next to each other. Both orders hold the same bytes per block, and both keep
 * each head vector ({@code dtype.bytesFor(headDim)} bytes: a quantized head's groups and scales) in
 * one piece; {@link CacheLayout} turns an order into offsets.
 *
 * <ul>
 *   <li>{@link #HEAD_RUNS} (the default): layer, K|V, KV head, then slot. One KV head's keys for all
 *       slots of a block are one contiguous run, what a kernel that walks one head over many slots reads
 *       (vLLM's original paged attention kernels, {@code PagedKvCache.keys(blockId, layer, head)}); one
 *       token's write is {@code layers x 2 x kvHeads} separate head vectors.</li>
 *   <li>{@link #TOKEN_RUNS}: layer, K|V, slot, then KV head. All heads of one token are one
 *       contiguous run ({@code kvHeads} head vectors), as FlashAttention's {@code [blocks, blockSize,
 *       heads, headDim]} cache; consecutive slots are consecutive runs, so one token's write from an
 *       engine's {@code [kvHeads][headDim]} output is {@code layers x 2} copies, and a chunk of tokens
 *       within a block is one copy per (layer, K|V). A per-head kernel reads one head's keys with a
 *       stride of {@link CacheLayout#slotStrideBytes()}.</li>
 * </ul>
 *
 * <p>Blocks of different orders are not interchangeable: the order is part of {@link CacheLayout}'s
 * equality and of a tier's layout fingerprint. Immutable and thread-safe.
 */
public enum BlockOrder {
    /** Layer, K|V, KV head, slot: one head's slots contiguous (the default). */
    HEAD_RUNS,
    /** Layer, K|V, slot, KV head: one token's heads contiguous. */
    TOKEN_RUNS;

    /**
     * The order named {@code text}: {@code head-runs} or {@code token-runs} (case and {@code _} or
     * {@code -} alike, as in {@code TOKEN_RUNS}).
     *
     * @throws IllegalArgumentException naming the text and the accepted names
     */
    public static BlockOrder parse(String text) {
        if (text != null) {
            String t = text.trim().replace('-', '_');
            for (BlockOrder o : values()) {
                if (o.name().equalsIgnoreCase(t)) {
                    return o;
                }
            }
        }
        throw new IllegalArgumentException("block order: '" + text + "' (expected: head-runs or token-runs)");
    }

    /** The name in lower case with dashes: {@code head-runs} or {@code token-runs}. */
    public String label() {
        return this == HEAD_RUNS ? "head-runs" : "token-runs";
    }
}
