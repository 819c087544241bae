package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model of an LRU block store for the stateful tests: which keys it holds in LRU order (oldest
 * first), which values were damaged behind its back, the counters and events it must report. Keys
 * are small ids mapped onto {@link BlockKey}s whose fields collide on purpose (two fingerprints, a
 * few hashes, two salts).
 */
final class StoreModel {

    static final int TOKENS = 4;
    static final int PAYLOAD = 64;
    static final int KEYS = 12;
    static final long FP_A = 0xA11CEL;
    static final long FP_B = 0xB0BL;

    /** A stored value: parent hash, token seed, payload seed. */
    record Value(long parent, int tokenSeed, long payloadSeed) {
    }

    final int capacity;
    final long capacityBytes;
    final long valueBytes;
    final LinkedHashMap<Integer, Value> lru = new LinkedHashMap<>();
    /** Sizes of files truncated on disk, known to the store only after a restart. */
    final Map<Integer, Long> truncatedTo = new java.util.HashMap<>();
    /** Sizes the store believes that differ from {@code valueBytes} (truncated files after a restart). */
    final Map<Integer, Long> size = new java.util.HashMap<>();
    final Set<Integer> damaged = new HashSet<>();
    final List<String> events = new ArrayList<>();
    long hits;
    long misses;
    long corrupt;
    long mismatched;
    long evictions;
    long removals;

    /** A store holding at most {@code capacity} values. */
    StoreModel(int capacity) {
        this(capacity, 0, 0);
    }

    /** A store holding at most {@code capacityBytes} bytes of values of {@code valueBytes} (if > 0). */
    StoreModel(int capacity, long capacityBytes, long valueBytes) {
        this.capacity = capacity;
        this.capacityBytes = capacityBytes;
        this.valueBytes = valueBytes;
    }

    long sizeOf(int id) {
        return size.getOrDefault(id, valueBytes);
    }

    long bytes() {
        long b = 0;
        for (int id : lru.keySet()) {
            b += sizeOf(id);
        }
        return b;
    }

    private boolean over() {
        return capacityBytes > 0 ? bytes() > capacityBytes : lru.size() > capacity;
    }

    private void forget(int id) {
        damaged.remove(id);
        truncatedTo.remove(id);
        size.remove(id);
    }

    /** A restart: the store now knows the real sizes of truncated files. */
    void restarted() {
        for (Map.Entry<Integer, Long> e : truncatedTo.entrySet()) {
            if (lru.containsKey(e.getKey())) {
                size.put(e.getKey(), e.getValue());
            }
        }
        truncatedTo.clear();
    }

    static BlockKey key(int id) {
        return new BlockKey((id & 1) == 0 ? FP_A : FP_B, id >> 2, ((id >> 1) & 1) * 99L);
    }

    static int[] tokens(int seed) {
        return Blocks.tokens(seed, TOKENS);
    }

    /** The model of a put: replace (youngest) or insert, evicting the oldest when full. */
    void put(int id, Value v) {
        lru.remove(id);
        forget(id);
        lru.put(id, v);
        Iterator<Map.Entry<Integer, Value>> it = lru.entrySet().iterator();
        while (over()) {
            int oldest = it.next().getKey();
            it.remove();
            forget(oldest);
            evictions++;
            events.add("removed " + key(oldest));
        }
        events.add("stored " + key(id));
    }

    /** The model of a get; checks the store's answer and {@code dst}. */
    void checkGet(int id, int tokenSeed, long parent, int result, MemorySegment dst) {
        Value v = lru.get(id);
        if (v == null) {
            misses++;
            assertEquals(BlockStore.MISS, result, "get of absent " + key(id));
        } else if (damaged.contains(id)) {
            corrupt++;
            assertEquals(BlockStore.REJECTED, result, "get of damaged " + key(id));
            lru.remove(id);
            forget(id);
            events.add("removed " + key(id));
        } else if (v.tokenSeed() != tokenSeed || v.parent() != parent) {
            mismatched++;
            assertEquals(BlockStore.REJECTED, result, "get of " + key(id) + " with other tokens or parent");
        } else {
            hits++;
            assertEquals(PAYLOAD, result, "get of " + key(id));
            assertTrue(Blocks.holds(dst, v.payloadSeed()), "bytes of " + key(id));
            lru.remove(id);
            lru.put(id, v);
        }
    }

    boolean remove(int id) {
        forget(id);
        if (lru.remove(id) != null) {
            removals++;
            events.add("removed " + key(id));
            return true;
        }
        return false;
    }

    void clear() {
        lru.clear();
        damaged.clear();
        truncatedTo.clear();
        size.clear();
        events.add("cleared");
    }

    /** Checks the store's counters and key set against the model. */
    void checkStats(BlockStore store, long valueBytes) {
        TierStats s = store.stats();
        assertEquals(lru.size(), s.entries(), "entries");
        assertEquals(capacityBytes > 0 ? bytes() : lru.size() * valueBytes, s.bytesUsed(), "bytesUsed");
        assertEquals(hits, s.hits(), "hits");
        assertEquals(misses, s.misses(), "misses");
        assertEquals(corrupt, s.corrupt(), "corrupt");
        assertEquals(mismatched, s.mismatched(), "mismatched");
        assertEquals(evictions, s.evictions(), "evictions");
        assertEquals(removals, s.removals(), "removals");
        for (int id = 0; id < KEYS; id++) {
            assertEquals(lru.containsKey(id), store.contains(key(id)), "contains " + key(id));
        }
    }

    /** An event as the model writes it. */
    static String describe(KvEvent e) {
        return switch (e) {
            case KvEvent.BlockStored s -> "stored " + s.key();
            case KvEvent.BlockRemoved r -> "removed " + r.key();
            case KvEvent.AllBlocksCleared c -> "cleared";
        };
    }
}
