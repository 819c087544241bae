package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.cache.model.KvPattern;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Several threads open, append, write, fork, hand forks to each other and close sequences of one
 * small cache (so it is often exhausted) for a bounded number of operations.
 *
 * <p>Per-block owner record: whenever a sequence gains a block freshly (a new block from append, or
 * a copy-on-write copy), its handle {@code generation << 32 | id} is recorded with the sequence's id;
 * a block handed out twice without being freed in between would be recorded twice in the same
 * generation. Every token each sequence wrote is read back exactly before it is closed, and at the
 * end the cache is empty: conservation holds with every block free.
 */
class PagedKvCacheStressTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);
    static final int THREADS = 4;
    static final int OPS = 3_000;

    /** A sequence and the salts of its tokens (-1 unwritten); owned by one thread at a time. */
    record Owned(Sequence seq, List<Integer> salts) {
    }

    @Test
    void concurrentSequencesNeverShareAFreshBlockAndReadBackExactly() throws Exception {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 48)) {
            ConcurrentHashMap<Long, Long> firstOwner = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<Owned> handOff = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        run(cache, firstOwner, handOff, seed);
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
            for (Owned o; (o = handOff.poll()) != null; ) {
                verify(o);
                o.seq().close();
            }
            CacheStats st = cache.stats();
            assertEquals(st.totalBlocks(), st.freeBlocks(), "all blocks free at the end: " + st);
            assertEquals(0, st.usedBlocks());
            assertEquals(0, st.sharedBlocks());
            assertEquals(0, st.liveTokens());
            assertEquals(0, st.emptySlots());
            assertEquals(0, st.openSequences());
        }
    }

    private static void run(PagedKvCache cache, ConcurrentHashMap<Long, Long> firstOwner,
            ConcurrentLinkedQueue<Owned> handOff, int seed) {
        Random r = new Random(seed);
        List<Owned> mine = new ArrayList<>();
        int[] before = new int[64];
        for (int op = 0; op < OPS; op++) {
            int pick = r.nextInt(100);
            if (mine.isEmpty() || pick < 8) {
                mine.add(new Owned(cache.openSequence(), new ArrayList<>()));
                continue;
            }
            Owned o = mine.get(r.nextInt(mine.size()));
            Sequence s = o.seq();
            if (pick < 40) {
                int n = 1 + r.nextInt(6);
                int oldCount = s.copyBlockTable(before);
                if (s.tryAppend(n)) {
                    for (int i = 0; i < n; i++) {
                        o.salts().add(-1);
                    }
                    recordFresh(cache, firstOwner, s, before, oldCount);
                }
            } else if (pick < 70 && s.length() > 0) {
                // as an engine does: the next unwritten position, or a rewrite of a written one
                int written = s.writtenTokens();
                int pos = written < s.length() && (written == 0 || r.nextBoolean()) ? written : r.nextInt(written);
                int salt = r.nextInt(1000);
                int oldCount = s.copyBlockTable(before);
                try {
                    KvPattern.writeToken(s, salt, pos);
                    o.salts().set(pos, salt);
                } catch (PoolExhaustedException e) {
                    // copy-on-write found the pool full: nothing changed
                }
                recordFresh(cache, firstOwner, s, before, oldCount);
            } else if (pick < 80) {
                Owned child = new Owned(s.fork(), new ArrayList<>(o.salts()));
                if (r.nextBoolean()) {
                    handOff.add(child);
                } else {
                    mine.add(child);
                }
            } else if (pick < 85) {
                Owned adopted = handOff.poll();
                if (adopted != null) {
                    mine.add(adopted);
                }
            } else {
                mine.remove(o);
                verify(o);
                s.close();
            }
        }
        for (Owned o : mine) {
            verify(o);
            o.seq().close();
        }
    }

    /** Records every block that is new or changed since {@code before}: each must be fresh in its generation. */
    private static void recordFresh(PagedKvCache cache, ConcurrentHashMap<Long, Long> firstOwner, Sequence s,
            int[] before, int oldCount) {
        for (int i = 0; i < s.blockCount(); i++) {
            int id = s.blockId(i);
            if (i >= oldCount || before[i] != id) {
                long handle = cache.pool().handle(id);
                Long prev = firstOwner.putIfAbsent(handle, s.id());
                if (prev != null) {
                    throw new AssertionError("block " + id + " generation " + BlockPool.handleGeneration(handle)
                            + " handed to sequence " + s.id() + " but already given to sequence " + prev);
                }
            }
        }
    }

    private static void verify(Owned o) {
        int written = o.seq().writtenTokens();
        for (int p = 0; p < o.salts().size(); p++) {
            int salt = o.salts().get(p);
            assertEquals(p < written, salt >= 0, "position " + p + " written below the mark " + written);
            if (salt >= 0) {
                KvPattern.assertToken(o.seq(), salt, p);
            }
        }
        assertEquals(o.salts().size(), o.seq().length());
    }
}
