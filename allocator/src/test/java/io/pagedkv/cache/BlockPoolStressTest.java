package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * Several threads allocate (one or many), share, write and release blocks of one pool for a bounded
 * number of operations. A per-block owner record (CAS from 0 to the owner's tag) proves that no
 * block is ever handed out while someone holds it; a tag written into each block proves nobody
 * else wrote it meanwhile; at the end every block is free and conservation holds.
 */
class BlockPoolStressTest {

    static final int THREADS = 4;
    static final int OPS = 20_000;
    static final int BLOCKS = 64;

    @Test
    void noBlockIsHandedOutTwiceAndAllComeBack() throws Exception {
        check(new BlockPool(BLOCKS, 16, 16));
    }

    /** Issue 27: the same with thread caches of 4 blocks (refills, flushes and steals all along). */
    @Test
    void withThreadCachesNoBlockIsHandedOutTwiceAndAllComeBack() throws Exception {
        check(BlockPool.builder(BLOCKS, 16).blocksPerChunk(16).threading(PoolThreading.THREAD_CACHES)
                .threadCacheBlocks(4).build());
    }

    private static void check(BlockPool p) throws Exception {
        try (BlockPool pool = p) {
            AtomicIntegerArray owner = new AtomicIntegerArray(BLOCKS);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int tag = t + 1;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        run(pool, owner, tag);
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread th : threads) {
                th.join();
            }
            if (!errors.isEmpty()) {
                AssertionError e = new AssertionError(errors.size() + " thread(s) failed");
                errors.forEach(e::addSuppressed);
                throw e;
            }
            assertEquals(BLOCKS, pool.freeBlocks());
            assertEquals(0, pool.sharedBlocks());
            int[] all = new int[BLOCKS];
            assertTrue(pool.allocate(BLOCKS, all), "every block, cached ones included, can be taken at once");
            pool.releaseAll(all, BLOCKS);
            for (int id = 0; id < BLOCKS; id++) {
                assertEquals(0, pool.refCount(id), "refCount of " + id);
                assertEquals(0, owner.get(id), "owner of " + id);
            }
        }
    }

    private static void run(BlockPool pool, AtomicIntegerArray owner, int tag) {
        Random r = new Random(tag);
        List<Integer> held = new ArrayList<>(); // one entry per reference this thread holds
        int[] out = new int[4];
        for (int op = 0; op < OPS; op++) {
            int pick = r.nextInt(10);
            if (pick < 3) {
                int id = pool.allocate();
                if (id != BlockPool.NO_BLOCK) {
                    claim(pool, owner, id, tag);
                    held.add(id);
                }
            } else if (pick < 5) {
                int n = 1 + r.nextInt(4);
                if (pool.allocate(n, out)) {
                    for (int i = 0; i < n; i++) {
                        claim(pool, owner, out[i], tag);
                        held.add(out[i]);
                    }
                }
            } else if (pick < 6 && !held.isEmpty()) {
                int id = held.get(r.nextInt(held.size()));
                pool.retain(id);
                held.add(id);
            } else if (!held.isEmpty()) {
                int id = held.remove(r.nextInt(held.size()));
                check(pool, owner, id, tag);
                boolean last = !held.contains(id);
                if (last) {
                    owner.set(id, 0); // give up the claim before the block can be handed out again
                }
                boolean freed = pool.release(id);
                if (freed != last) {
                    throw new AssertionError("release of block " + id + " freed=" + freed + " but last=" + last);
                }
            }
        }
        for (int id : held) {
            check(pool, owner, id, tag);
        }
        for (int i = held.size() - 1; i >= 0; i--) {
            int id = held.get(i);
            if (held.indexOf(id) == i) {
                owner.set(id, 0);
            }
            pool.release(id);
        }
    }

    private static void claim(BlockPool pool, AtomicIntegerArray owner, int id, int tag) {
        if (!owner.compareAndSet(id, 0, tag)) {
            throw new AssertionError("block " + id + " handed to thread " + tag + " while owned by thread " + owner.get(id));
        }
        pool.writableBlock(id).set(ValueLayout.JAVA_INT, 0, tag);
    }

    private static void check(BlockPool pool, AtomicIntegerArray owner, int id, int tag) {
        assertEquals(tag, owner.get(id), "owner of block " + id);
        assertEquals(tag, pool.block(id).get(ValueLayout.JAVA_INT, 0), "tag in block " + id);
    }
}
