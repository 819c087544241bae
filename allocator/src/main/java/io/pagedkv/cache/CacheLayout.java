package io.pagedkv.cache;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;

/**
 * Where every byte of a block lives: the one place that knows the offset formula.
 *
 * <p>A block holds {@code blockSize} token slots for every layer, for K and V, for every KV head.
 * Inside a block the bytes are ordered layer, then K|V, then KV head, then slot:
 *
 * <pre>
 *   offset(layer, kv, head, slot) = ((layer * 2 + kv) * kvHeads + head) * headRunBytes
 *                                   + slot * headBytes
 *   headBytes    = dtype.bytesFor(headDim)        (one head of one token)
 *   headRunBytes = blockSize * headBytes          (one head, all slots of the block)
 *   bytesPerBlock = layers * 2 * kvHeads * headRunBytes
 * </pre>
 *
 * <p>so for a given block, layer and KV head, the keys of all slots are one contiguous run of
 * {@link #headRunBytes()} bytes, and so are the values: an attention kernel reads a block as
 * {@code 2 * kvHeads} contiguous runs per layer. {@code kv} is {@link #K} or {@link #V}.
 *
 * <p>Invariants, checked by the constructor: the head dim holds whole dtype groups, the block size
 * is positive, and a block is at most {@link #MAX_BLOCK_BYTES} bytes. Immutable and thread-safe.
 *
 * @param shape the model's attention shape
 * @param dtype the storage type of K and V
 * @param blockSize tokens per block (16 by default)
 */
public record CacheLayout(ModelShape shape, KvDType dtype, int blockSize) {

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

    /** A layout with the default block size of {@value #DEFAULT_BLOCK_SIZE} tokens. */
    public static CacheLayout of(ModelShape shape, KvDType dtype) {
        return new CacheLayout(shape, dtype, DEFAULT_BLOCK_SIZE);
    }

    /** Bytes of one head of one token (K or V): {@code dtype.bytesFor(headDim)}. */
    public int headBytes() {
        return dtype.bytesFor(shape.headDim());
    }

    /** Bytes of one KV head for all slots of a block: one contiguous run. */
    public int headRunBytes() {
        return blockSize * headBytes();
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

    /** Offset of the contiguous run of one head's keys or values for all slots of a block. */
    public long runOffset(int layer, int kv, int head) {
        checkIndex("layer", layer, shape.layers());
        checkIndex("kv", kv, 2);
        checkIndex("head", head, shape.kvHeads());
        return ((long) (layer * 2 + kv) * shape.kvHeads() + head) * headRunBytes();
    }

    /** {@link #offset} without bounds checks, for hot paths whose indices are already checked. */
    public long unsafeOffset(int layer, int kv, int head, int slot) {
        return ((long) (layer * 2 + kv) * shape.kvHeads() + head) * headRunBytes() + (long) slot * headBytes();
    }

    private static void checkIndex(String what, int index, int bound) {
        if (index < 0 || index >= bound) {
            throw new IndexOutOfBoundsException(what + ": " + index + " (expected: 0 <= " + what + " < " + bound + ")");
        }
    }
}
