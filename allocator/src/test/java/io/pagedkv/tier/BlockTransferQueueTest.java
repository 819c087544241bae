package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The offload/restore queue: offloads copy and return at once, a full queue drops and counts, a
 * restore writes its destination only on a verified hit, a bounded wait that gives up leaves the
 * destination untouched even when the store answers later, store failures never kill a worker.
 */
class BlockTransferQueueTest {

    static final int[] TOKENS = StoreModel.tokens(0);
    static final long SENTINEL = 0xDEADL;

    static BlockKey key(int i) {
        return new BlockKey(7, i, 0);
    }

    static MemorySegment sentinel() {
        return Blocks.payload(SENTINEL, 64);
    }

    @Test
    void anOffloadCopiesTheBlockSoTheCallerMayReuseItAtOnce() throws InterruptedException {
        HostMemoryStore host = new HostMemoryStore(8 * 136, 4, 64);
        GatedStore gated = new GatedStore(host);
        gated.shut();
        try (Arena arena = Arena.ofConfined(); BlockTransferQueue q = new BlockTransferQueue(gated, 4, 64, 4, 4, 1)) {
            MemorySegment block = Blocks.payload(arena, 1, 64);
            assertTrue(q.offload(key(1), 0, TOKENS, 0, 4, block));
            Blocks.fill(block, 99); // the pool reuses the block before the worker ran
            gated.open();
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, host.get(key(1), 0, TOKENS, 0, 4, dst));
            assertTrue(Blocks.holds(dst, 1), "the bytes at offload time");
            assertEquals(1, q.stats().offloadsStored());
        }
    }

    @Test
    void aFullQueueDropsTheOffloadAndCountsIt() throws InterruptedException {
        HostMemoryStore host = new HostMemoryStore(8 * 136, 4, 64);
        GatedStore gated = new GatedStore(host);
        gated.shut();
        try (BlockTransferQueue q = new BlockTransferQueue(gated, 4, 64, 2, 4, 1)) {
            assertTrue(q.offload(key(1), 0, TOKENS, 0, 4, Blocks.payload(1, 64)));
            while (gated.entered.get() == 0) {
                Thread.onSpinWait(); // the worker holds slot 1 at the gate
            }
            assertTrue(q.offload(key(2), 0, TOKENS, 0, 4, Blocks.payload(2, 64)));
            assertFalse(q.offload(key(3), 0, TOKENS, 0, 4, Blocks.payload(3, 64)), "both slots taken");
            assertEquals(1, q.stats().offloadsDropped());
            assertEquals(2, q.stats().pendingOffloads());
            gated.open();
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(2, q.stats().offloadsStored());
            assertTrue(host.contains(key(1)) && host.contains(key(2)) && !host.contains(key(3)));
            assertTrue(q.offload(key(3), 0, TOKENS, 0, 4, Blocks.payload(3, 64)), "room again");
        }
    }

    @Test
    void aRestoreCompletesAsynchronouslyWithTheVerifiedBytes() throws InterruptedException {
        HostMemoryStore host = new HostMemoryStore(8 * 136, 4, 64);
        host.put(key(1), 0, TOKENS, 0, 4, Blocks.payload(1, 64));
        try (Arena arena = Arena.ofShared(); BlockTransferQueue q = new BlockTransferQueue(host, 4, 64, 2, 4, 2)) {
            MemorySegment dst = arena.allocate(64);
            RestoreTicket t = q.restore(key(1), 0, TOKENS, 0, 4, dst);
            assertEquals(64, t.await(5, TimeUnit.SECONDS));
            assertTrue(t.isDone() && t.isHit());
            assertTrue(Blocks.holds(dst, 1));
            MemorySegment untouched = sentinel();
            assertEquals(BlockStore.MISS, q.restore(key(2), 0, TOKENS, 0, 4, untouched, 5, TimeUnit.SECONDS));
            assertTrue(Blocks.holds(untouched, SENTINEL), "a miss leaves the destination alone");
            host.corruptForTest(key(1), 70);
            assertEquals(BlockStore.REJECTED, q.restore(key(1), 0, TOKENS, 0, 4, untouched, 5, TimeUnit.SECONDS));
            assertTrue(Blocks.holds(untouched, SENTINEL), "a rejected value leaves the destination alone");
            TransferStats s = q.stats();
            assertEquals(1, s.restoreHits());
            assertEquals(1, s.restoreMisses());
            assertEquals(1, s.restoreRejected());
        }
    }

    @Test
    void aBoundedWaitThatGivesUpLeavesTheDestinationUntouchedEvenWhenTheStoreAnswersLater()
            throws InterruptedException {
        HostMemoryStore host = new HostMemoryStore(8 * 136, 4, 64);
        host.put(key(1), 0, TOKENS, 0, 4, Blocks.payload(1, 64));
        GatedStore slow = new GatedStore(host);
        slow.shut();
        try (BlockTransferQueue q = new BlockTransferQueue(slow, 4, 64, 2, 4, 1)) {
            MemorySegment dst = sentinel();
            assertEquals(RestoreTicket.TIMED_OUT, q.restore(key(1), 0, TOKENS, 0, 4, dst, 20, TimeUnit.MILLISECONDS));
            slow.open(); // the store answers a hit after the caller gave up
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(1, host.stats().hits(), "the store did serve the late hit");
            assertTrue(Blocks.holds(dst, SENTINEL), "but it never reached the destination");
            assertEquals(0, q.stats().restoreHits());
            assertTrue(q.stats().restoresCancelled() >= 1);
        }
    }

    @Test
    void aFullRestoreQueueAnswersAtOnce() throws InterruptedException {
        GatedStore slow = new GatedStore(new HostMemoryStore(8 * 136, 4, 64));
        slow.shut();
        try (BlockTransferQueue q = new BlockTransferQueue(slow, 4, 64, 2, 1, 1)) {
            RestoreTicket running = q.restore(key(1), 0, TOKENS, 0, 4, sentinel());
            while (slow.entered.get() == 0) {
                Thread.onSpinWait();
            }
            RestoreTicket waiting = q.restore(key(2), 0, TOKENS, 0, 4, sentinel());
            RestoreTicket refused = q.restore(key(3), 0, TOKENS, 0, 4, sentinel());
            assertTrue(refused.isDone());
            assertEquals(RestoreTicket.QUEUE_FULL, refused.result());
            assertFalse(waiting.isDone());
            assertTrue(waiting.cancel());
            slow.open();
            assertEquals(BlockStore.MISS, running.await(5, TimeUnit.SECONDS));
            assertEquals(RestoreTicket.CANCELLED, waiting.result());
            assertEquals(1, q.stats().restoresRefused());
        }
    }

    @Test
    void aStoreThatThrowsIsCountedAndTheWorkerKeepsServing() throws InterruptedException {
        HostMemoryStore host = new HostMemoryStore(8 * 136, 4, 64);
        GatedStore failing = new GatedStore(host);
        failing.throwing = true;
        try (BlockTransferQueue q = new BlockTransferQueue(failing, 4, 64, 2, 4, 1)) {
            assertTrue(q.offload(key(1), 0, TOKENS, 0, 4, Blocks.payload(1, 64)));
            assertEquals(BlockStore.UNAVAILABLE, q.restore(key(1), 0, TOKENS, 0, 4, sentinel(), 5, TimeUnit.SECONDS));
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(2, q.stats().storeFailures());
            failing.throwing = false;
            assertTrue(q.offload(key(1), 0, TOKENS, 0, 4, Blocks.payload(1, 64)));
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, q.restore(key(1), 0, TOKENS, 0, 4, dst, 5, TimeUnit.SECONDS));
            assertTrue(Blocks.holds(dst, 1));
        }
    }

    @Test
    void closeAnswersWaitingRestoresAndRefusesNewWork() throws InterruptedException {
        GatedStore slow = new GatedStore(new HostMemoryStore(8 * 136, 4, 64));
        slow.shut();
        BlockTransferQueue q = new BlockTransferQueue(slow, 4, 64, 2, 4, 1);
        RestoreTicket running = q.restore(key(1), 0, TOKENS, 0, 4, sentinel());
        while (slow.entered.get() == 0) {
            Thread.onSpinWait();
        }
        RestoreTicket waiting = q.restore(key(2), 0, TOKENS, 0, 4, sentinel());
        Thread opener = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                // opens anyway
            }
            slow.open();
        });
        opener.start();
        q.close();
        opener.join();
        assertEquals(RestoreTicket.CLOSED, waiting.result());
        assertEquals(BlockStore.MISS, running.result(), "the running task finished");
        assertFalse(q.offload(key(3), 0, TOKENS, 0, 4, Blocks.payload(3, 64)));
        assertEquals(RestoreTicket.CLOSED, q.restore(key(3), 0, TOKENS, 0, 4, sentinel()).result());
        q.close();
    }

    @Test
    void concurrentOffloadsAndRestoresNeverServeAnotherBlocksBytes() throws Exception {
        int perThread = 150;
        HostMemoryStore host = new HostMemoryStore(3L * perThread * 136, 4, 64);
        try (BlockTransferQueue q = new BlockTransferQueue(host, 4, 64, 8, 16, 2)) {
            Thread[] threads = new Thread[3];
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            for (int t = 0; t < threads.length; t++) {
                int base = t * perThread;
                threads[t] = new Thread(() -> {
                    try {
                        MemorySegment dst = MemorySegment.ofArray(new byte[64]);
                        for (int i = base; i < base + perThread; i++) {
                            int[] tokens = StoreModel.tokens(i);
                            while (!q.offload(key(i), i, tokens, 0, 4, Blocks.payload(i, 64))) {
                                Thread.onSpinWait(); // full: a test may retry; a scheduler would drop
                            }
                            int back = i - 3 >= base ? i - 3 : i;
                            int r = q.restore(key(back), back, StoreModel.tokens(back), 0, 4, dst, 5, TimeUnit.SECONDS);
                            if (r >= 0 && !Blocks.holds(dst, back)) {
                                throw new AssertionError("block " + back + " restored other bytes");
                            }
                            if (r < 0 && r != BlockStore.MISS) {
                                throw new AssertionError("block " + back + ": " + r);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertTrue(q.awaitIdle(5, TimeUnit.SECONDS));
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            for (int i = 0; i < threads.length * perThread; i++) {
                assertEquals(64, host.get(key(i), i, StoreModel.tokens(i), 0, 4, dst), "block " + i);
                assertTrue(Blocks.holds(dst, i), "bytes of block " + i);
            }
        }
    }

    @Test
    void badArgumentsNameTheLimit() {
        try (BlockTransferQueue q = new BlockTransferQueue(new HostMemoryStore(8 * 136, 4, 64), 4, 64, 2, 4, 1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> q.offload(key(1), 0, TOKENS, 0, 4, MemorySegment.ofArray(new byte[65])));
            assertTrue(e.getMessage().contains("65") && e.getMessage().contains("64"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> q.offload(key(1), 0, TOKENS, 2, 4, sentinel()));
            assertThrows(IllegalArgumentException.class,
                    () -> q.restore(key(1), 0, TOKENS, 0, 4, sentinel().asReadOnly()));
            try (Arena confined = Arena.ofConfined()) {
                var c = assertThrows(IllegalArgumentException.class,
                        () -> q.restore(key(1), 0, TOKENS, 0, 4, confined.allocate(64)));
                assertTrue(c.getMessage().contains("confined"), c.getMessage());
            }
            assertEquals(0, q.stats().offloadsQueued());
        }
        assertThrows(IllegalArgumentException.class,
                () -> new BlockTransferQueue(new HostMemoryStore(8 * 136, 4, 64), 4, 64, 0, 4, 1));
    }
}
