package io.pagedkv.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * One cached full block in the prefix index: its chained hash, its parent entry, its token ids and
 * extra key (verified on every hit), the block holding its K/V, and its links in the hash-collision
 * chain and the LRU list. Guarded by the owning {@link PrefixCache}'s lock.
 */
final class PrefixEntry {

    final long hash;
    final PrefixEntry parent;
    final int[] tokens;
    final long extraKey;
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

    PrefixEntry(long hash, PrefixEntry parent, int[] tokens, long extraKey, int blockId) {
        this.hash = hash;
        this.parent = parent;
        this.tokens = tokens;
        this.extraKey = extraKey;
        this.blockId = blockId;
    }

    boolean matches(PrefixEntry parentEntry, int[] src, int from, long extra) {
        if (parent != parentEntry || extraKey != extra) {
            return false;
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] != src[from + i]) {
                return false;
            }
        }
        return true;
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
