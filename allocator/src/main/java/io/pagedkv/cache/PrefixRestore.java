package io.pagedkv.cache;

import java.lang.foreign.MemorySegment;

/**
 * Fresh blocks waiting for the K/V of the blocks that follow a prompt's cached prefix, fetched from a
 * tier below the pool (host memory, files, Redis): made by
 * {@link PagedKvCache#beginPrefixRestore}, filled by the caller (a {@code BlockTransferQueue}), then
 * ended once with {@link #commit(int)}.
 *
 * <p>Block {@code i} of the restore is block {@code firstBlock() + i} of the prompt, named by
 * {@link #hash(int)} after {@link #parentHash(int)} with {@link #salt()}: exactly the names the
 * prefix cache would give those tokens, so the tier's key and verification (parent hash, token ids)
 * are the cache's own. Until {@code commit} the fresh blocks belong to the restore (in use, in no
 * table, never read), and the matched chain is referenced so that no allocation reclaims it.
 *
 * <p>{@code commit(n)} is a promise the cache cannot check, like {@link Sequence#markWritten(int)}:
 * blocks {@code 0 .. n)} hold the K/V of their tokens, whole. The caller commits only verified hits
 * in chain order (the first non-hit ends the chain) and only once nothing can write the destinations
 * any more. The committed blocks enter the index as cached-unreferenced blocks (so an admission right
 * after reuses them as prefix hits); the rest return to the free list.
 *
 * <p>Threading: the restore is used by one thread (the scheduler); {@link #destination(int)} segments
 * may be written from any thread until {@code commit}.
 */
public final class PrefixRestore {

    private final PagedKvCache cache;
    private final int[] tokens;
    private final PrefixKeys keys;
    private final PrefixEntry[] held;
    private final int heldCount;
    /** {@code hashes[0]} the parent of the first restored block, {@code hashes[i + 1]} block i's hash. */
    private final long[] hashes;
    private final int[] blocks;
    private boolean ended;

    PrefixRestore(PagedKvCache cache, int[] tokens, PrefixKeys keys, PrefixEntry[] held, int heldCount, long[] hashes,
            int[] blocks) {
        this.cache = cache;
        this.tokens = tokens;
        this.keys = keys;
        this.held = held;
        this.heldCount = heldCount;
        this.hashes = hashes;
        this.blocks = blocks;
    }

    /** The prompt block index of the first restored block: the cached prefix's length in blocks. */
    public int firstBlock() {
        return heldCount;
    }

    /** Blocks to restore. */
    public int blockCount() {
        return blocks.length;
    }

    /** The chained prefix hash of restored block {@code i}. */
    public long hash(int i) {
        checkIndex(i);
        return hashes[i + 1];
    }

    /** The hash of the block before restored block {@code i} ({@link PrefixHasher#ROOT} for a prompt's first). */
    public long parentHash(int i) {
        checkIndex(i);
        return hashes[i];
    }

    /** The request's salt. */
    public long salt() {
        return keys.salt();
    }

    /** The prompt's token ids (a copy): block {@code i}'s are {@code [tokenOffset(i), tokenOffset(i) + blockSize)}. */
    public int[] tokens() {
        return tokens.clone();
    }

    /** Where block {@code i}'s token ids start in {@link #tokens()}. */
    public int tokenOffset(int i) {
        checkIndex(i);
        return (heldCount + i) * cache.layout().blockSize();
    }

    /** The pool block restored block {@code i} goes to. */
    public int blockId(int i) {
        checkIndex(i);
        return blocks[i];
    }

    /**
     * The writable bytes of restored block {@code i} ({@code bytesPerBlock}; a shared arena's, so
     * transfer workers may write it).
     *
     * @throws IllegalStateException if the restore has ended
     */
    public MemorySegment destination(int i) {
        checkIndex(i);
        if (ended) {
            throw new IllegalStateException("restore: ended (expected: destinations are valid until commit)");
        }
        return cache.blockPool().writableBlock(blocks[i]);
    }

    /** Whether {@link #commit} ran. */
    public boolean isEnded() {
        return ended;
    }

    /**
     * Ends the restore: indexes blocks {@code [0, restored)} (each holds its tokens' K/V, whole) as
     * prefix blocks, frees the others, and drops the references on the matched chain.
     *
     * @return blocks newly indexed (fewer than {@code restored} when the chain was dropped meanwhile or
     *     another request indexed the same block first)
     * @throws IllegalArgumentException if {@code restored} is outside {@code [0, blockCount()]}
     * @throws IllegalStateException if already ended
     */
    public int commit(int restored) {
        if (restored < 0 || restored > blocks.length) {
            throw new IllegalArgumentException("restored: " + restored + " (expected: 0.." + blocks.length + ")");
        }
        if (ended) {
            throw new IllegalStateException("restore: already ended (expected: commit once)");
        }
        cache.checkOpen();
        ended = true;
        return cache.prefix().commitRestored(held, heldCount, tokens, keys, hashes, blocks, restored);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= blocks.length) {
            throw new IndexOutOfBoundsException("i: " + i + " (expected: 0.." + (blocks.length - 1) + ")");
        }
    }

    @Override
    public String toString() {
        return "PrefixRestore[first=" + heldCount + ", blocks=" + blocks.length + (ended ? ", ended" : "") + "]";
    }
}
