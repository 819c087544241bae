package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of issue 24 for the bare pool: each is named for the invariant it protects and
 * failed on the code before its fix (items 4, 5, 7 and 8).
 */
class BlockPoolHardeningTest {

    /** Item 5: a chunk commit that runs out of memory half way through allocate(n) leaves no trace. */
    @Test
    void aChunkCommitFailureInsideAllocateManyLeavesNoBlockHalfAllocated() {
        NthCallFaults faults = new NthCallFaults();
        try (BlockPool pool = new BlockPool(4, 16, 2, faults)) {
            faults.failNthChunkCommit(2); // ids 0, 1 (chunk 0) commit, id 2 (chunk 1) fails
            int[] out = {-7, -7, -7};
            assertFalse(pool.allocate(3, out), "an out-of-memory chunk commit answers no");
            assertEquals(1, faults.injectedFailures(), "the fault was reached");
            assertArrayEquals(new int[] {-7, -7, -7}, out, "out untouched");
            assertEquals(4, pool.freeBlocks());
            for (int id = 0; id < 4; id++) {
                assertEquals(0, pool.refCount(id), "refCount of block " + id);
            }
            assertEquals(1, pool.chunkCommitFailures());
            // conservation: every block can still be handed out exactly once
            int[] all = new int[4];
            assertTrue(pool.allocate(4, all));
            Set<Integer> ids = new HashSet<>();
            for (int id : all) {
                assertTrue(ids.add(id), "handed out twice: " + id);
            }
            assertEquals(BlockPool.NO_BLOCK, pool.allocate());
        }
    }

    /** Item 5: the single-block path answers NO_BLOCK on an out-of-memory commit and changes nothing. */
    @Test
    void aChunkCommitFailureInsideAllocateAnswersNoBlock() {
        NthCallFaults faults = new NthCallFaults().failNthChunkCommit(1);
        try (BlockPool pool = new BlockPool(4, 16, 2, faults)) {
            assertEquals(BlockPool.NO_BLOCK, pool.allocate());
            assertEquals(4, pool.freeBlocks());
            assertEquals(0, pool.committedChunks());
            assertEquals(0, pool.allocate(), "the next call commits and succeeds");
        }
    }

    /**
     * Item 7: a chunk is reserved (and zero-filled) outside the pool's lock: while one thread is held
     * inside a chunk commit, another allocates and frees committed blocks.
     */
    @Test
    void allocatingCommittedBlocksNeverWaitsForAnotherThreadsChunkCommit() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FaultInjector holdChunk1 = new FaultInjector() {
            @Override
            public boolean failAllocation(int blocks) {
                return false;
            }

            @Override
            public boolean failChunkCommit(int chunk) {
                if (chunk == 1) {
                    entered.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return false;
            }
        };
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try (BlockPool pool = new BlockPool(4, 16, 2, holdChunk1)) {
            pool.free(pool.allocate()); // chunk 0 committed
            Future<Boolean> committer = ex.submit(() -> pool.allocate(3, new int[3])); // needs chunk 1
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the committer reached chunk 1");
            Future<Integer> other = ex.submit(() -> {
                int id = pool.allocate();
                pool.free(id);
                return id;
            });
            try {
                assertNotEquals(BlockPool.NO_BLOCK, other.get(5, TimeUnit.SECONDS));
            } catch (TimeoutException e) {
                throw new AssertionError("allocate() of a committed block waited for another thread's chunk commit", e);
            } finally {
                release.countDown();
            }
            assertTrue(committer.get(10, TimeUnit.SECONDS));
            assertEquals(1, pool.freeBlocks());
        } finally {
            release.countDown();
            ex.shutdownNow();
        }
    }

    /**
     * Issue 27: no lock is held while a chunk is reserved. A thread that needs a chunk another thread
     * is still reserving does not wait for it: it reserves its own and publishes first; the slower
     * reservation loses the compare-and-set and serves the next chunk instead (no memory lost).
     */
    @Test
    void aThreadNeedingAChunkAnotherIsReservingReservesItsOwnAndTheLoserServesTheNextChunk() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger[] commits = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        FaultInjector holdFirstCommitOfChunk1 = new FaultInjector() {
            @Override
            public boolean failAllocation(int blocks) {
                return false;
            }

            @Override
            public boolean failChunkCommit(int chunk) {
                if (commits[chunk].getAndIncrement() == 0 && chunk == 1) {
                    entered.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return false;
            }
        };
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try (BlockPool pool = new BlockPool(6, 16, 2, holdFirstCommitOfChunk1)) {
            pool.free(pool.allocate()); // chunk 0 committed
            int[] slow = new int[3];
            Future<Boolean> first = ex.submit(() -> pool.allocate(3, slow)); // ids 0, 1 and 2: needs chunk 1
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the first thread is inside chunk 1's reservation");
            int[] fast = new int[3];
            Future<Boolean> second = ex.submit(() -> pool.allocate(3, fast));
            try {
                assertTrue(second.get(5, TimeUnit.SECONDS));
            } catch (TimeoutException e) {
                throw new AssertionError("an allocation waited for another thread's reservation of the same chunk", e);
            } finally {
                release.countDown();
            }
            assertArrayEquals(new int[] {0, 1, 2}, fast, "the second thread reserved chunk 1 and took its ids");
            assertTrue(first.get(10, TimeUnit.SECONDS));
            assertArrayEquals(new int[] {3, 4, 5}, slow, "the first thread's memory lost the race and became chunk 2");
            assertEquals(2, commits[1].get(), "chunk 1 reserved by both threads");
            assertEquals(0, commits[2].get(), "chunk 2 needed no new reservation");
            assertEquals(3, pool.committedChunks());
            assertEquals(6 * 16, pool.reservedBytes(), "no memory beyond the three chunks");
            assertEquals(0, pool.freeBlocks());
        } finally {
            release.countDown();
            ex.shutdownNow();
        }
    }

    /**
     * Item 4: a close that the arena refuses (a thread is inside an I/O call on a block's buffer)
     * leaves the pool open and usable, and a later close frees the memory.
     */
    @Test
    void aRefusedCloseLeavesThePoolOpenAndALaterCloseFreesTheMemory() throws Exception {
        BlockPool pool = new BlockPool(2, 1 << 20, 2);
        int id = pool.allocate();
        MemorySegment seg = pool.block(id);
        Pipe pipe = Pipe.open();
        Thread writer = new Thread(() -> {
            try {
                ByteBuffer buf = seg.asByteBuffer();
                while (buf.hasRemaining()) {
                    pipe.sink().write(buf); // blocks: nobody reads the pipe yet; holds the arena
                }
            } catch (Exception e) {
                // closed pipe at the end of the test
            }
        });
        writer.setDaemon(true);
        writer.start();
        try {
            awaitBlockedInWrite(writer);
            IllegalStateException e = assertThrows(IllegalStateException.class, pool::close);
            assertFalse(pool.isClosed(), "a refused close must not mark the pool closed: " + e.getMessage());
            assertEquals(0L, seg.get(ValueLayout.JAVA_LONG, 0), "memory still there");
            int other = pool.allocate();
            assertNotEquals(BlockPool.NO_BLOCK, other, "still usable");
        } finally {
            drain(pipe, writer);
        }
        pool.close();
        assertTrue(pool.isClosed());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_LONG, 0), "memory freed");
        pool.close(); // idempotent
    }

    static void awaitBlockedInWrite(Thread writer) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (StackTraceElement f : writer.getStackTrace()) {
                if (f.getMethodName().startsWith("write0") || f.getMethodName().equals("park")) {
                    Thread.sleep(50); // inside the native write, the arena acquired
                    return;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("writer never blocked in the pipe write");
    }

    static void drain(Pipe pipe, Thread writer) throws Exception {
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        pipe.source().configureBlocking(false);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (writer.isAlive() && System.nanoTime() < deadline) {
            sink.clear();
            pipe.source().read(sink);
        }
        pipe.sink().close();
        pipe.source().close();
        writer.join(5_000);
    }

    /** Item 8: retainAll stops at the reference-count limit as retain does, instead of wrapping. */
    @Test
    void retainAllNeverWrapsAReferenceCount() throws Exception {
        try (BlockPool pool = new BlockPool(2, 8)) {
            int a = pool.allocate();
            int b = pool.allocate();
            Field f = BlockPool.class.getDeclaredField("refCounts");
            f.setAccessible(true);
            ((int[]) f.get(pool))[a] = Integer.MAX_VALUE - 1; // as if retained 2^31 - 2 times
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pool.retainAll(new int[] {b, a, a}, 3));
            assertTrue(e.getMessage().contains("refCount"), e.getMessage());
            assertEquals(Integer.MAX_VALUE - 1, pool.refCount(a), "all or none: nothing retained");
            assertEquals(1, pool.refCount(b));
        }
    }

    /** Item 8: the chunk count of a pool near 2^31 blocks does not overflow an int. */
    @Test
    void chunkCountOfAHugePoolDoesNotOverflow() {
        assertEquals(1, BlockPool.chunkCount(Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertEquals(2, BlockPool.chunkCount(Integer.MAX_VALUE, Integer.MAX_VALUE - 1));
        assertEquals(3, BlockPool.chunkCount(5, 2));
    }

    /** Item 8: handle() of a closed pool throws like every other operation. */
    @Test
    void handleOfAClosedPoolThrows() {
        BlockPool pool = new BlockPool(2, 8);
        int id = pool.allocate();
        pool.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.handle(id));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
