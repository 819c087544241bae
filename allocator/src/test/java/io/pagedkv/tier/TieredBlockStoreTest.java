package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiered chain: write-through, lookup in order, promotion of hits, and falling through bad tiers. */
class TieredBlockStoreTest {

    static final int[] TOKENS = StoreModel.tokens(0);

    static BlockKey key(int i) {
        return new BlockKey(1, i, 0);
    }

    static boolean put(BlockStore s, int i) {
        return s.put(key(i), 0, TOKENS, 0, 4, Blocks.payload(i, 64));
    }

    static int get(BlockStore s, int i, MemorySegment dst) {
        return s.get(key(i), 0, TOKENS, 0, 4, dst);
    }

    @Test
    void aHitInASlowerTierIsServedAndPromotedIntoTheFasterOnes(@TempDir Path dir) {
        HostMemoryStore host = new HostMemoryStore(2 * 136, 4, 64);
        try (TieredBlockStore chain = new TieredBlockStore(host, FileBlockStore.open(dir, 1 << 20))) {
            for (int i = 0; i < 5; i++) {
                assertTrue(put(chain, i));
            }
            assertFalse(host.contains(key(0)), "the host tier holds only the 2 youngest");
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, get(chain, 0, dst));
            assertTrue(Blocks.holds(dst, 0));
            assertTrue(host.contains(key(0)), "promoted");
            assertEquals(1, chain.hits(1));
            assertEquals(64, get(chain, 0, dst));
            assertEquals(1, chain.hits(0), "second hit from the host tier");
            assertEquals(BlockStore.MISS, get(chain, 9, dst));
            assertEquals(2, chain.stats().hits());
            assertEquals(1, chain.stats().misses());
        }
    }

    @Test
    void aRejectedOrUnavailableTierFallsThroughToAGoodCopy(@TempDir Path dir) {
        HostMemoryStore host = new HostMemoryStore(4 * 136, 4, 64);
        GatedStore flaky = new GatedStore(FileBlockStore.open(dir, 1 << 20));
        HostMemoryStore last = new HostMemoryStore(4 * 136, 4, 64);
        try (TieredBlockStore chain = new TieredBlockStore(host, flaky, last)) {
            assertTrue(put(chain, 1));
            assertTrue(host.corruptForTest(key(1), 100));
            flaky.unavailable = true;
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, get(chain, 1, dst));
            assertTrue(Blocks.holds(dst, 1), "served from the last tier");
            assertEquals(1, host.stats().corrupt());
            assertEquals(1, chain.hits(2));
            assertTrue(host.contains(key(1)), "the good copy replaced the damaged one");
            last.clear();
            host.clear();
            assertEquals(BlockStore.UNAVAILABLE, get(chain, 1, dst), "no hit, and one tier could not answer");
            flaky.unavailable = false;
            assertEquals(64, get(chain, 1, dst));
        }
    }

    @Test
    void listenersSeeEveryTierWithItsMedium(@TempDir Path dir) {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        try (TieredBlockStore chain = new TieredBlockStore(new HostMemoryStore(4 * 136, 4, 64),
                FileBlockStore.open(dir, 1 << 20))) {
            chain.addListener(e -> seen.add(e.medium() + " " + e.getClass().getSimpleName()));
            put(chain, 1);
            chain.remove(key(1));
            chain.clear();
        }
        assertEquals(List.of("cpu BlockStored", "disk BlockStored", "cpu BlockRemoved", "disk BlockRemoved",
                "cpu AllBlocksCleared", "disk AllBlocksCleared"), seen);
    }
}
