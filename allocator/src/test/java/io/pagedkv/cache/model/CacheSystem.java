package io.pagedkv.cache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.cache.BlockPoolView;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.NthCallFaults;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PoolThreading;
import io.pagedkv.cache.Sequence;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The system under test of the stateful tests: a cache and its open sequences by model key. */
public final class CacheSystem implements AutoCloseable {

    final PagedKvCache cache;
    final NthCallFaults faults = new NthCallFaults();
    final Map<Integer, Sequence> seqs = new HashMap<>();

    /**
     * A cache of {@code blocks} blocks shaped by {@code layout}, reserved two blocks per chunk (so
     * chunk commits happen all along a run) and consulting {@link #faults()}.
     */
    public CacheSystem(CacheLayout layout, int blocks) {
        this(layout, blocks, PoolThreading.LOCKED);
    }

    /** The same on a pool with the given threading mode (the calling thread owns an OWNER pool). */
    public CacheSystem(CacheLayout layout, int blocks, PoolThreading threading) {
        this.cache = PagedKvCache.builder(layout, blocks).blocksPerChunk(2).faults(faults).threading(threading)
                .build();
    }

    /** The fault injector of the cache's pool. */
    public NthCallFaults faults() {
        return faults;
    }

    /** The cache. */
    public PagedKvCache cache() {
        return cache;
    }

    /** The sequence with model key {@code key}. */
    public Sequence seq(int key) {
        Sequence s = seqs.get(key);
        assertNotNull(s, "no sequence for key " + key);
        return s;
    }

    /** A snapshot of the cache and all open sequences. */
    public CacheSnapshot snapshot() {
        return CacheSnapshot.of(cache, new ArrayList<>(seqs.values()));
    }

    /**
     * Checks the system against the model: lengths and tables, a one-to-one map of model blocks to
     * block ids (so no block is named by two sequences unless the model shares it), reference counts,
     * conservation, stats, and exact readback of every written token.
     */
    public void check(CacheModel model) {
        assertEquals(model.open.size(), seqs.size(), "open sequences");
        Map<CacheModel.Block, Integer> idOf = new IdentityHashMap<>();
        Map<Integer, CacheModel.Block> blockOf = new HashMap<>();
        long live = 0;
        long empty = 0;
        for (CacheModel.Seq m : model.open) {
            Sequence s = seq(m.key);
            assertEquals(m.length(), s.length(), "length of " + m);
            assertEquals(m.blocks.size(), s.blockCount(), "blocks of " + m);
            for (int i = 0; i < m.blocks.size(); i++) {
                CacheModel.Block mb = m.blocks.get(i);
                int id = s.blockId(i);
                Integer prevId = idOf.putIfAbsent(mb, id);
                CacheModel.Block prevBlock = blockOf.putIfAbsent(id, mb);
                if (prevId != null) {
                    assertEquals(prevId.intValue(), id, "model block " + mb + " shared, but ids differ in " + m);
                }
                if (prevBlock != null && prevBlock != mb) {
                    throw new AssertionError("block id " + id + " owned by two unshared model blocks "
                            + prevBlock + " and " + mb + " (in " + m + ")");
                }
            }
            live += m.length();
            empty += (long) m.blocks.size() * model.blockSize - m.length();
        }
        BlockPoolView pool = cache.pool();
        Map<CacheModel.Block, Integer> rc = model.refCounts();
        for (int id = 0; id < pool.blockCount(); id++) {
            CacheModel.Block mb = blockOf.get(id);
            assertEquals(mb == null ? 0 : rc.get(mb), pool.refCount(id), "refCount of block " + id);
        }
        CacheStats st = cache.stats();
        assertEquals(model.totalBlocks, st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation");
        assertEquals(model.freeBlocks(), st.freeBlocks(), "free blocks");
        assertEquals(model.usedBlocks(), st.usedBlocks(), "used blocks");
        assertEquals(model.sharedBlocks(), st.sharedBlocks(), "shared blocks");
        assertEquals(model.open.size(), st.openSequences(), "open sequences (stats)");
        assertEquals(live, st.liveTokens(), "live tokens");
        assertEquals(empty, st.emptySlots(), "empty slots");
        assertEquals(model.copies, st.copyOnWriteCopies(), "copy-on-write copies");
        for (CacheModel.Seq m : model.open) {
            Sequence s = seq(m.key);
            assertEquals(m.written, s.writtenTokens(), "written mark of " + m);
            for (int l = 0; l < cache.layout().shape().layers(); l++) {
                assertEquals(m.written, s.written(l), "written mark of layer " + l + " of " + m);
            }
            for (int p = 0; p < m.written; p++) {
                int salt = m.salts.get(p);
                if (salt >= 0) { // below the mark but never written: only after a markWritten promise
                    KvPattern.assertToken(s, salt, p);
                }
            }
            if (m.written < m.length()) {
                int unwritten = m.written;
                assertThrows(IllegalStateException.class, () -> s.readKey(0, 0, unwritten, new float[64], 0),
                        "a read at the written mark " + unwritten + " of " + m + " must be refused");
            }
        }
    }

    /** Registers a sequence under a model key. */
    void put(int key, Sequence s) {
        assertNull(seqs.put(key, s), "key reused: " + key);
    }

    /** All open sequences. */
    public List<Sequence> sequences() {
        return new ArrayList<>(seqs.values());
    }

    @Override
    public void close() {
        cache.close();
    }
}
