package io.pagedkv.cache;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;

/**
 * Where every byte of a block lives: the one place that knows the offset formula.
 *
 * <p>A block holds {@code blockSize} token slots for every layer, for K and V, for every KV head.
 * Inside a block the bytes are ordered layer, then K|V, then, by the layout's {@link BlockOrder},
 * KV head then slot ({@link BlockOrder#HEAD_RUNS}, the default) or slot then KV head
 * ({@link BlockOrder#TOKEN_RUNS}):
 *
 * <pre>
 *   offset(layer, kv, head, slot) = (layer * 2 + kv) * partBytes + head * headStrideBytes
 *                                   + slot * slotStrideBytes
 *   headBytes     = dtype.bytesFor(headDim)         (one head of one token)
 *   partBytes     = kvHeads * blockSize * headBytes (one layer's K, or its V, for every slot)
 *                      headStrideBytes                slotStrideBytes
 *   HEAD_RUNS       headRunBytes = blockSize * headBytes   headBytes
 *   TOKEN_RUNS      headBytes                              tokenRunBytes = kvHeads * headBytes
 *   bytesPerBlock = layers * 2 * partBytes
 * </pre>
 *
 * <p>so with {@code HEAD_RUNS}, for a given block, layer and KV head, the keys of all slots are one
 * contiguous run of {@link #headRunBytes()} bytes, and so are the values: an attention kernel reads a
 * block as {@code 2 * kvHeads} contiguous runs per layer. With {@code TOKEN_RUNS} the keys of all
 * heads of one slot are one run of {@link #tokenRunBytes()} bytes and consecutive slots follow each
 * other, so a token's K (or V) of one layer is one copy, and a kernel reads one head's keys
 * {@link #slotStrideBytes()} apart. Either way one head vector is {@link #headBytes()} contiguous
 * bytes (a quantized head keeps its groups and scales together), and one layer's part of a block is
 * the same {@code 2 * partBytes} bytes. {@code kv} is {@link #K} or {@link #V}.
 *
 * <p>Invariants, checked by the constructor: the head dim holds whole dtype groups, the block size
 * is positive, and a block is at most {@link #MAX_BLOCK_BYTES} bytes. Immutable and thread-safe.
 *
 * @param shape the model's attention shape
 * @param dtype the storage type of K and V
 * @param blockSize tokens per block (16 by default)
 * @param order the order of head vectors inside a block ({@link BlockOrder#HEAD_RUNS} by default)
 */
public record CacheLayout(ModelShape shape, KvDType dtype, int blockSize, BlockOrder order) {

    /** Index of keys in the offset formula. */
    public static final int K = 0;
    /** Index of values in the offset formula. */
    public static final int V = 1;
    /** Default tokens per block, as in vLLM. */
    public static final int DEFAULT_BLOCK_SIZE = 16;
    /** Largest block, in bytes (a block is addressed with int offsets by kernels). */
    public static final long MAX_BLOCK_BYTES = Integer.MAX_VALUE;

    /** Validates the invariants above. */
    public CacheLayout {
        if (shape == null) {
            throw new IllegalArgumentException("shape: null (expected: a ModelShape)");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: null (expected: a KvDType)");
        }
        if (order == null) {
            throw new IllegalArgumentException("order: null (expected: BlockOrder.HEAD_RUNS or TOKEN_RUNS)");
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: > 0 tokens)");
        }
        if (!dtype.supports(shape.headDim())) {
            throw new IllegalArgumentException("headDim: " + shape.headDim() + " of " + shape.name()
                    + " is not a multiple of the " + dtype.label() + " group size " + dtype.groupSize());
        }
        long perBlock = (long) blockSize * shape.layers() * 2L * shape.kvHeads() * dtype.bytesFor(shape.headDim());
        if (perBlock > MAX_BLOCK_BYTES || perBlock / blockSize != (long) shape.layers() * 2L * shape.kvHeads()
                * dtype.bytesFor(shape.headDim())) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " makes a block of " + perBlock
                    + " bytes (expected: <= " + MAX_BLOCK_BYTES + ")");
        }
    }

    /** A layout in the default order, {@link BlockOrder#HEAD_RUNS}; same checks as the canonical constructor. */
    public CacheLayout(ModelShape shape, KvDType dtype, int blockSize) {
        this(shape, dtype, blockSize, BlockOrder.HEAD_RUNS);
    }

    /** A layout with the default block size of {@value #DEFAULT_BLOCK_SIZE} tokens, in {@link BlockOrder#HEAD_RUNS}. */
    public static CacheLayout of(ModelShape shape, KvDType dtype) {
        return new CacheLayout(shape, dtype, DEFAULT_BLOCK_SIZE);
    }

    /**
     * This layout in {@code order} (shape, dtype and block size unchanged): e.g.
     * {@code CacheLayout.of(shape, KvDType.F16).withOrder(BlockOrder.TOKEN_RUNS)}.
     *
     * @throws IllegalArgumentException if {@code order} is null
     */
    public CacheLayout withOrder(BlockOrder order) {
        return order == this.order ? this : new CacheLayout(shape, dtype, blockSize, order);
    }

    /** Bytes of one head of one token (K or V): {@code dtype.bytesFor(headDim)}. */
    public int headBytes() {
        return dtype.bytesFor(shape.headDim());
    }

    /**
     * Bytes of one KV head for all slots of a block: {@code blockSize * headBytes}. One contiguous run
     * in {@link BlockOrder#HEAD_RUNS}; in {@link BlockOrder#TOKEN_RUNS} the same number of bytes lie
     * {@link #slotStrideBytes()} apart.
     */
    public int headRunBytes() {
        return blockSize * headBytes();
    }

    /**
     * Bytes of all KV heads of one token (K or V, one layer): {@code kvHeads * headBytes}. One
     * contiguous run in {@link BlockOrder#TOKEN_RUNS}.
     */
    public int tokenRunBytes() {
        return shape.kvHeads() * headBytes();
    }

    /**
     * Bytes from a head vector of slot {@code s} to the same head of slot {@code s + 1}:
     * {@link #headBytes()} in {@link BlockOrder#HEAD_RUNS}, {@link #tokenRunBytes()} in
     * {@link BlockOrder#TOKEN_RUNS}. What a kernel walking one head over a block's slots steps by.
     */
    public int slotStrideBytes() {
        return order == BlockOrder.HEAD_RUNS ? headBytes() : tokenRunBytes();
    }

    /**
     * Bytes from head {@code h} of a slot to head {@code h + 1} of the same slot:
     * {@link #headRunBytes()} in {@link BlockOrder#HEAD_RUNS}, {@link #headBytes()} in
     * {@link BlockOrder#TOKEN_RUNS}.
     */
    public int headStrideBytes() {
        return order == BlockOrder.HEAD_RUNS ? headRunBytes() : headBytes();
    }

    /**
     * Bytes of one layer's K (or its V) for every head and slot of a block:
     * {@code kvHeads * blockSize * headBytes}, the same in both orders; the part of
     * {@code (layer, kv)} starts at {@code (layer * 2 + kv) * partBytes()}.
     */
    public int partBytes() {
        return shape.kvHeads() * headRunBytes();
    }

    /** Bytes of K and V of one token across all layers and KV heads. */
    public long bytesPerToken() {
        return (long) shape.layers() * 2L * shape.kvHeads() * headBytes();
    }

    /** Bytes of K and V of one token in one layer. */
    public int bytesPerTokenPerLayer() {
        return 2 * shape.kvHeads() * headBytes();
    }

    /** Bytes of one block: {@code blockSize * bytesPerToken()}. */
    public long bytesPerBlock() {
        return blockSize * bytesPerToken();
    }

    /** Blocks needed to hold {@code tokens} tokens (ceiling division); 0 for 0 tokens. */
    public long blocksFor(long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        return (tokens + blockSize - 1) / blockSize;
    }

    /**
     * Offset inside a block of one head vector.
     *
     * @param layer 0-based layer
     * @param kv {@link #K} or {@link #V}
     * @param head 0-based KV head
     * @param slot 0-based slot in the block
     * @throws IndexOutOfBoundsException naming the index and its bound
     */
    public long offset(int layer, int kv, int head, int slot) {
        checkIndex("layer", layer, shape.layers());
        checkIndex("kv", kv, 2);
        checkIndex("head", head, shape.kvHeads());
        checkIndex("slot", slot, blockSize);
        return unsafeOffset(layer, kv, head, slot);
    }

    /**
     * Offset of one head's keys or values of slot 0 of a block: in {@link BlockOrder#HEAD_RUNS} the
     * start of the head's contiguous run of all slots; in {@link BlockOrder#TOKEN_RUNS} the first of
     * {@code blockSize} head vectors {@link #slotStrideBytes()} apart.
     */
    public long runOffset(int layer, int kv, int head) {
        checkIndex("layer", layer, shape.layers());
        checkIndex("kv", kv, 2);
        checkIndex("head", head, shape.kvHeads());
        return unsafeOffset(layer, kv, head, 0);
    }

    /** {@link #offset} without bounds checks, for hot paths whose indices are already checked. */
    public long unsafeOffset(int layer, int kv, int head, int slot) {
        int hb = headBytes();
        long part = (long) (layer * 2 + kv) * shape.kvHeads() * blockSize * hb;
        return order == BlockOrder.HEAD_RUNS
                ? part + (long) head * blockSize * hb + (long) slot * hb
                : part + ((long) slot * shape.kvHeads() + head) * hb;
    }

    private static void checkIndex(String what, int index, int bound) {
        if (index < 0 || index >= bound) {
            throw new IndexOutOfBoundsException(what + ": " + index + " (expected: 0 <= " + what + " < " + bound + ")");
        }
    }
}
