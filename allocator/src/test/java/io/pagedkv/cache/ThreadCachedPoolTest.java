package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 27: how blocks in a thread's cache are accounted for (free, not lost), how an empty cache gets
 * blocks that sit in other threads' caches, what close and a thread's end do with them, and the
 * {@code OWNER} mode's ownership rules; plus {@code releaseAll} all-or-none in every mode.
 */
class ThreadCachedPoolTest {

    static BlockPool cached(int blocks, int cacheBlocks) {
        return BlockPool.builder(blocks, 16).threading(PoolThreading.THREAD_CACHES).threadCacheBlocks(cacheBlocks).build();
    }

    static void onOtherThread(Runnable r) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void blocksFreedIntoAnotherThreadsCacheAreFreeAndAllocatableHere() throws Exception {
        try (BlockPool pool = cached(8, 8)) {
            int[] all = new int[8];
            assertTrue(pool.allocate(8, all));
            AtomicReference<Thread> helper = new AtomicReference<>();
            Thread t = new Thread(() -> {
                pool.releaseAll(all, 8); // into the helper's cache
                helper.set(Thread.currentThread());
                synchronized (helper) {
                    helper.notifyAll();
                    try {
                        helper.wait(10_000); // stay alive: its cache is a live thread's
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            synchronized (helper) {
                t.start();
                helper.wait(10_000);
            }
            assertEquals(8, pool.freeBlocks(), "cached blocks are free");
            assertEquals(8, pool.threadCachedBlocks(), "all in the helper's cache");
            assertEquals(0, pool.usedBlocks());
            int[] again = new int[8];
            assertTrue(pool.allocate(8, again), "taken from the helper's cache: no slack");
            assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6, 7), ids(again));
            assertEquals(0, pool.threadCachedBlocks());
            synchronized (helper) {
                helper.notifyAll();
            }
            t.join();
        }
    }

    @Test
    void theCacheOfAThreadThatEndedIsEmptiedWhenBlocksRunShort() throws Exception {
        try (BlockPool pool = cached(4, 4)) {
            onOtherThread(() -> {
                int[] ids = new int[4];
                assertTrue(pool.allocate(4, ids));
                pool.releaseAll(ids, 4);
            });
            assertEquals(4, pool.threadCachedBlocks(), "a dead thread's cache still holds its free blocks");
            int[] ids = new int[4];
            assertTrue(pool.allocate(4, ids));
            assertEquals(4, ids(ids).size());
            assertEquals(0, pool.freeBlocks());
            assertEquals(BlockPool.NO_BLOCK, pool.allocate());
        }
    }

    @Test
    void flushThreadCacheMovesTheCallersBlocksToTheSharedStack() {
        try (BlockPool pool = cached(8, 8)) {
            int id = pool.allocate(); // takes one, refills the cache to half its capacity
            assertEquals(4, pool.threadCachedBlocks());
            pool.free(id);
            assertEquals(5, pool.threadCachedBlocks());
            pool.flushThreadCache();
            assertEquals(0, pool.threadCachedBlocks());
            assertEquals(8, pool.freeBlocks());
        }
    }

    @Test
    void aSingleThreadGetsAscendingIdsAndItsLastFreedBlockFirstAsWithTheLock() {
        try (BlockPool pool = cached(6, 4)) {
            assertEquals(0, pool.allocate());
            assertEquals(1, pool.allocate());
            pool.free(0);
            assertEquals(0, pool.allocate());
            assertEquals(2, pool.allocate());
        }
    }

    @Test
    void closeFreesCachedBlocksWithTheRestAndLaterUseThrows() {
        BlockPool pool = cached(4, 4);
        int id = pool.allocate();
        pool.free(id);
        assertTrue(pool.threadCachedBlocks() > 0);
        pool.close();
        assertTrue(pool.isClosed());
        assertThrows(IllegalStateException.class, pool::allocate);
        assertThrows(IllegalStateException.class, () -> pool.allocate(2, new int[2]));
        pool.close(); // idempotent
    }

    @Test
    void releaseAllIsAllOrNoneInEveryMode() {
        for (PoolThreading mode : PoolThreading.values()) {
            try (BlockPool pool = BlockPool.builder(4, 16).threading(mode).build()) {
                int a = pool.allocate();
                int b = pool.allocate();
                pool.retain(a);
                int[] bad = {a, b, b}; // b is held once
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.releaseAll(bad, 3));
                assertTrue(e.getMessage().contains("nothing released"), mode + ": " + e.getMessage());
                assertEquals(2, pool.refCount(a), mode + ": all or none");
                assertEquals(1, pool.refCount(b), mode + ": all or none");
                assertEquals(2, pool.freeBlocks(), mode.toString());
                assertEquals(1, pool.sharedBlocks(), mode.toString());
                int generation = pool.generation(b);
                assertEquals(2, pool.releaseAll(new int[] {a, b, a}, 3), mode + ": both blocks freed");
                assertEquals(generation + 1, pool.generation(b));
                assertEquals(4, pool.freeBlocks(), mode.toString());
                assertEquals(0, pool.sharedBlocks(), mode.toString());
            }
        }
    }

    @Test
    void anOwnerPoolBelongsToItsFirstChangerAndRefusesOtherThreads() throws Exception {
        try (BlockPool pool = BlockPool.builder(4, 16).threading(PoolThreading.OWNER).build()) {
            assertEquals(null, pool.owner());
            int id = pool.allocate();
            assertEquals(Thread.currentThread(), pool.owner());
            onOtherThread(() -> {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.retain(id));
                assertTrue(e.getMessage().contains("owned by thread '" + Thread.currentThread().getName()) == false
                        && e.getMessage().contains("owned by thread"), e.getMessage());
                assertThrows(IllegalStateException.class, () -> pool.release(id));
                assertThrows(IllegalStateException.class, () -> pool.allocate(1, new int[1]));
                assertThrows(IllegalStateException.class, pool::allocate, "checked with -ea, as tests run");
                assertThrows(IllegalStateException.class, () -> pool.free(id), "checked with -ea");
                assertEquals(1, pool.refCount(id), "a reader may read");
            });
            assertEquals(1, pool.refCount(id), "the refused changes changed nothing");
            assertEquals(3, pool.freeBlocks());
            AtomicReference<Thread> next = new AtomicReference<>();
            Thread t = new Thread(() -> {
                pool.free(id); // the designated owner claims it
                assertNotEquals(BlockPool.NO_BLOCK, pool.allocate());
            });
            next.set(t);
            pool.transferOwnership(t);
            assertThrows(IllegalStateException.class, pool::allocate, "handed on: no longer this thread's");
            t.start();
            t.join();
            assertEquals(t, pool.owner());
            assertEquals(3, pool.freeBlocks());
            assertFalse(pool.isClosed());
        }
    }

    @Test
    void anOwnerPoolKeepsAllOrNothingAllocationGenerationsAndFaults() {
        NthCallFaults faults = new NthCallFaults();
        try (BlockPool pool = BlockPool.builder(4, 16).blocksPerChunk(2).faults(faults).threading(PoolThreading.OWNER)
                .build()) {
            int[] out = {-7, -7, -7, -7, -7};
            assertFalse(pool.allocate(5, out));
            assertArrayEquals(new int[] {-7, -7, -7, -7, -7}, out);
            faults.failNthChunkCommit(2);
            assertFalse(pool.allocate(3, out), "the second chunk's commit fails: nothing taken");
            assertEquals(4, pool.freeBlocks());
            faults.failNthAllocation(1);
            assertEquals(BlockPool.NO_BLOCK, pool.allocate());
            int id = pool.allocate();
            long handle = pool.handle(id);
            pool.free(id);
            assertFalse(pool.isLive(handle), "freed: a new generation");
            assertEquals(1, pool.generation(id));
            assertEquals(2, faults.injectedFailures());
        }
    }

    static Set<Integer> ids(int[] ids) {
        Set<Integer> s = new HashSet<>();
        for (int id : ids) {
            s.add(id);
        }
        return s;
    }

    @Test
    void inThreadCachesModeEveryBlocksCountsSitOnACacheLineOfTheirOwnWithPaddedEnds() {
        try (BlockPool pool = cached(64, 8)) {
            assertTrue(pool.metaIndex(0) * 4 >= 128, "ints before block 0's: " + pool.metaIndex(0));
            for (int id = 1; id < 64; id++) {
                assertTrue((pool.metaIndex(id) - pool.metaIndex(id - 1)) * 4 >= 64, "block " + id);
            }
            assertTrue((pool.metaLength() - 1 - pool.metaIndex(63)) * 4 >= 128, "ints after the last block's");
            int[] two = new int[2];
            assertTrue(pool.allocate(2, two));
            assertEquals(1, pool.refCount(two[0]));
            pool.releaseAll(two, 2);
            assertEquals(0, pool.refCount(two[0]));
        }
        for (PoolThreading mode : new PoolThreading[] {PoolThreading.LOCKED, PoolThreading.OWNER}) {
            try (BlockPool pool = BlockPool.builder(64, 16).threading(mode).build()) {
                assertEquals(63, pool.metaIndex(63), mode + " indexes by id");
                assertEquals(64, pool.metaLength(), mode + " keeps one int per block");
            }
        }
        try (BlockPool big = cached(BlockPool.MAX_SPREAD_BLOCKS + 1, 8)) {
            assertEquals(BlockPool.MAX_SPREAD_BLOCKS, big.metaIndex(BlockPool.MAX_SPREAD_BLOCKS),
                    "past MAX_SPREAD_BLOCKS a pool keeps one int per block");
        }
    }
}
