package io.pagedkv.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * One cached full block in the prefix index: its chained hash, its parent entry, its token ids, salt,
 * key and range keys (all verified on every hit), the block holding its K/V, and its links in the
 * hash-collision chain and the LRU list. Guarded by the owning {@link PrefixCache}'s lock.
 *
 * <p>An entry of a sliding-window layer group is found by its chained hash alone ({@link #matchesByHash}):
 * it has no parent entry ({@code parent} is null, {@code parentHash} names the prefix before it), is
 * nobody's child, and so survives the reclaim of the entries before it, as vLLM's sliding groups need.
 */
final class PrefixEntry {

    final long hash;
    final PrefixEntry parent;
    /** The chained hash of the blocks before this one ({@link PrefixHasher#ROOT} for block 0). */
    final long parentHash;
    final int[] tokens;
    final long salt;
    final long extraKey;
    /** Keys of the {@link PrefixKeys} ranges this block overlaps, in order; null if none. */
    final long[] rangeKeys;
    /** The layer group whose block this is ({@link PrefixKeys#group()}). */
    final int group;
    final int blockId;

    /** Next entry with the same hash (collision chain). */
    PrefixEntry nextSameHash;
    /** LRU links; non-null exactly when the block is cached-unreferenced. */
    PrefixEntry lruPrev;
    PrefixEntry lruNext;
    /** Entries whose parent is this one. */
    List<PrefixEntry> children;
    /** False once dropped from the index (reclaimed or reset): no lookup can reach it. */
    boolean live = true;
    /** True once handed to a {@link PrefixOffload} (or restored from one): never offered twice. */
    boolean offloaded;

    PrefixEntry(long hash, PrefixEntry parent, int[] tokens, long salt, long extraKey, long[] rangeKeys, int blockId) {
        this(hash, parent, parent == null ? PrefixHasher.ROOT : parent.hash, tokens, salt, extraKey, rangeKeys, 0, blockId);
    }

    PrefixEntry(long hash, PrefixEntry parent, long parentHash, int[] tokens, long salt, long extraKey, long[] rangeKeys,
            int group, int blockId) {
        this.group = group;
        this.hash = hash;
        this.parent = parent;
        this.parentHash = parentHash;
        this.tokens = tokens;
        this.salt = salt;
        this.extraKey = extraKey;
        this.rangeKeys = rangeKeys;
        this.blockId = blockId;
    }

    /** Whether this entry is block {@code block} of a prompt {@code src} under {@code keys} after {@code parentEntry}. */
    boolean matches(PrefixEntry parentEntry, int[] src, int from, PrefixKeys keys, int block) {
        if (parent != parentEntry || salt != keys.salt() || extraKey != keys.key() || group != keys.group()
                || !keys.sameRangeKeys(rangeKeys, block, tokens.length)) {
            return false;
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] != src[from + i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether this entry is block {@code block} of a prompt {@code src} under {@code keys}, its earlier
     * blocks trusted to the 64-bit chained hash the caller looked it up by (no parent entry compared).
     */
    boolean matchesByHash(int[] src, int from, PrefixKeys keys, int block) {
        if (salt != keys.salt() || extraKey != keys.key() || group != keys.group()
                || !keys.sameRangeKeys(rangeKeys, block, tokens.length)) {
            return false;
        }
        return java.util.Arrays.equals(tokens, 0, tokens.length, src, from, from + tokens.length);
    }

    void addChild(PrefixEntry child) {
        if (children == null) {
            children = new ArrayList<>(2);
        }
        children.add(child);
    }

    boolean inLru() {
        return lruNext != null;
    }

    @Override
    public String toString() {
        return "PrefixEntry[block=" + blockId + ", hash=" + Long.toHexString(hash) + (live ? "" : ", dead") + "]";
    }
}
