package io.pagedkv.cache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.cache.BlockPoolView;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Everything observable about a cache and some of its sequences (stats, lengths, block tables,
 * reference counts and every byte of every allocated block), to prove that a failed call changed
 * nothing.
 */
public record CacheSnapshot(CacheStats stats, int[] lengths, int[][] tables, int[] refCounts, byte[][] blocks) {

    /** Captures the cache and the given sequences (closed ones record length -1). */
    public static CacheSnapshot of(PagedKvCache cache, List<Sequence> seqs) {
        int[] lengths = new int[seqs.size()];
        int[][] tables = new int[seqs.size()][];
        for (int i = 0; i < seqs.size(); i++) {
            Sequence s = seqs.get(i);
            lengths[i] = s.isClosed() ? -1 : s.length();
            tables[i] = new int[s.blockCount()];
            s.copyBlockTable(tables[i]);
        }
        BlockPoolView pool = cache.pool();
        int[] rc = new int[pool.blockCount()];
        byte[][] blocks = new byte[pool.blockCount()][];
        for (int b = 0; b < blocks.length; b++) {
            rc[b] = pool.refCount(b);
            blocks[b] = rc[b] > 0 ? pool.block(b).toArray(ValueLayout.JAVA_BYTE) : new byte[0];
        }
        return new CacheSnapshot(cache.stats(), lengths, tables, rc, blocks);
    }

    /** Asserts that {@code after} equals this snapshot in every field. */
    public void assertUnchanged(CacheSnapshot after) {
        assertEquals(stats, after.stats, "stats");
        assertArrayEquals(lengths, after.lengths, "lengths");
        assertEquals(tables.length, after.tables.length, "sequences");
        for (int i = 0; i < tables.length; i++) {
            assertArrayEquals(tables[i], after.tables[i], "block table " + i);
        }
        assertArrayEquals(refCounts, after.refCounts, "reference counts");
        for (int b = 0; b < blocks.length; b++) {
            assertArrayEquals(blocks[b], after.blocks[b], "bytes of block " + b);
        }
    }
}
