package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The thread cache's layout: the words its owner writes on every allocate and free sit two cache
 * lines (128 bytes, an adjacent-line prefetcher's pair) away from both ends of their array, so no other
 * object, and so no other thread's cache, shares a line (or a line pair) with them wherever the
 * collector puts the array.
 */
class BlockCacheTest {

    @Test
    void theHotWordsAndIdsAreAtLeastACacheLineFromBothEndsOfTheArray() {
        for (int capacity : new int[] {2, 32, 1000}) {
            BlockCache c = new BlockCache(Thread.currentThread(), capacity);
            int firstHot = Math.min(BlockCache.VERSION, Math.min(BlockCache.COUNT, BlockCache.SHARED));
            int lastHot = BlockCache.IDS + capacity - 1;
            assertTrue(firstHot * Integer.BYTES >= 128, "first hot word at byte " + firstHot * Integer.BYTES);
            assertTrue((c.words.length - 1 - lastHot) * Integer.BYTES >= 128,
                    "last id at int " + lastHot + " of " + c.words.length);
            assertTrue(BlockCache.IDS > BlockCache.SHARED && BlockCache.SHARED > BlockCache.COUNT
                    && BlockCache.COUNT > BlockCache.VERSION, "version, count, shared delta, then the ids");
            assertEquals(capacity, c.capacity());
        }
    }

    @Test
    void idsKeepTheirOrderThroughCopiesAndTheLockWordCountsCriticalSections() {
        BlockCache c = new BlockCache(Thread.currentThread(), 8);
        assertEquals(0, c.versionAcquire());
        c.lock();
        assertEquals(1, c.versionAcquire(), "odd while held");
        c.copyIdsFrom(new int[] {9, 5, 7, 3}, 0, 0, 4);
        c.id(4, 11);
        c.count(5);
        c.addShared(2);
        c.unlock();
        assertEquals(2, c.versionAcquire(), "even again, one step further");
        assertEquals(5, c.count());
        assertEquals(2, c.sharedDelta());
        c.lock();
        int[] out = new int[3];
        c.copyIdsTo(0, out, 0, 2); // the two oldest, as a flush takes them
        c.dropOldest(2, 5);
        c.count(3);
        c.unlock();
        assertArrayEquals(new int[] {9, 5, 0}, out);
        assertEquals(Arrays.asList(7, 3, 11), Arrays.asList(c.id(0), c.id(1), c.id(2)));
        int[] pad = Arrays.copyOfRange(c.words, 0, BlockCache.PAD);
        assertArrayEquals(new int[BlockCache.PAD], pad, "padding never written");
        int[] tail = Arrays.copyOfRange(c.words, BlockCache.IDS + 8, c.words.length);
        assertArrayEquals(new int[BlockCache.PAD], tail, "padding never written");
    }
}
