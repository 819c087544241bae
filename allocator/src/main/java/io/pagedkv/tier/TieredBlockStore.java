package io.pagedkv.tier;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A chain of stores, fastest first (host memory, then file, then Redis): a put writes through to
 * every tier (each keeps its own LRU and capacity, and a shared tier such as Redis sees every block
 * at once, as LMCache's storage manager does), a get asks the tiers in order and promotes a verified
 * hit into every faster tier that missed it.
 *
 * <p>A tier that answers {@link #UNAVAILABLE} or {@link #REJECTED} is skipped: the next tier may
 * still hold a good copy. {@link #get} returns {@link #UNAVAILABLE} only if no tier hit and at least
 * one was unavailable, {@link #REJECTED} if no tier hit and one rejected a value, else {@link #MISS}.
 * Events: listeners added here are added to every tier (each event names its tier's medium).
 * {@link #close()} closes every tier. Thread-safe when the tiers are.
 */
public final class TieredBlockStore implements BlockStore {

    /** The medium name of the chain itself (its own stats). */
    public static final String MEDIUM = "tiered";

    private final BlockStore[] tiers;
    private final LongAdder[] hitsByTier;
    private final TierCounters counters = new TierCounters();

    /**
     * A chain of {@code tiers}, fastest first.
     *
     * @throws IllegalArgumentException if there is no tier or one is null
     */
    public TieredBlockStore(BlockStore... tiers) {
        if (tiers == null || tiers.length == 0) {
            throw new IllegalArgumentException("tiers: none (expected: at least one BlockStore)");
        }
        for (int i = 0; i < tiers.length; i++) {
            if (tiers[i] == null) {
                throw new IllegalArgumentException("tiers[" + i + "]: null (expected: a BlockStore)");
            }
        }
        this.tiers = tiers.clone();
        this.hitsByTier = new LongAdder[tiers.length];
        for (int i = 0; i < tiers.length; i++) {
            hitsByTier[i] = new LongAdder();
        }
    }

    @Override
    public String medium() {
        return MEDIUM;
    }

    /** The tiers, fastest first. */
    public List<BlockStore> tiers() {
        return List.of(tiers);
    }

    @Override
    public boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload) {
        BlockStore.checkArgs(key, tokens, from, count, payload, "payload");
        boolean any = false;
        for (BlockStore t : tiers) {
            any |= t.put(key, parentHash, tokens, from, count, payload);
        }
        if (any) {
            counters.put(payload.byteSize());
        } else {
            counters.putRefused();
        }
        return any;
    }

    @Override
    public int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        BlockStore.checkArgs(key, tokens, from, count, dst, "dst");
        int worst = MISS;
        for (int i = 0; i < tiers.length; i++) {
            int r = tiers[i].get(key, parentHash, tokens, from, count, dst);
            if (r >= 0) {
                for (int j = 0; j < i; j++) {
                    tiers[j].put(key, parentHash, tokens, from, count, dst);
                }
                hitsByTier[i].increment();
                counters.hit(r);
                return r;
            }
            if (r == UNAVAILABLE || (r == REJECTED && worst != UNAVAILABLE)) {
                worst = r;
            }
        }
        if (worst == UNAVAILABLE) {
            counters.error();
        } else if (worst == REJECTED) {
            counters.corrupt();
        } else {
            counters.miss();
        }
        return worst;
    }

    /** Hits served by tier {@code i} (0 = fastest). */
    public long hits(int tier) {
        return hitsByTier[tier].sum();
    }

    @Override
    public boolean contains(BlockKey key) {
        for (BlockStore t : tiers) {
            if (t.contains(key)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean remove(BlockKey key) {
        boolean any = false;
        for (BlockStore t : tiers) {
            any |= t.remove(key);
        }
        if (any) {
            counters.removal();
        }
        return any;
    }

    @Override
    public void clear() {
        for (BlockStore t : tiers) {
            t.clear();
        }
    }

    /**
     * The chain's own counters: a put counts once if any tier stored it; a get counts once, as a hit
     * (whichever tier), an error (some tier unavailable, none hit), a rejection (counted as corrupt)
     * or a miss. Entries and bytes are -1: see each tier's {@link BlockStore#stats()}.
     */
    @Override
    public TierStats stats() {
        return counters.snapshot(MEDIUM, -1, -1, -1);
    }

    @Override
    public void addListener(KvEventListener listener) {
        for (BlockStore t : tiers) {
            t.addListener(listener);
        }
    }

    @Override
    public boolean removeListener(KvEventListener listener) {
        boolean any = false;
        for (BlockStore t : tiers) {
            any |= t.removeListener(listener);
        }
        return any;
    }

    /** Closes every tier (all of them, even if one throws; the first exception is rethrown). */
    @Override
    public void close() {
        RuntimeException first = null;
        for (BlockStore t : tiers) {
            try {
                t.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
