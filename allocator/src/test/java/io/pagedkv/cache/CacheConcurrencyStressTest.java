package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 24, Must show 4: four threads open prompts from shared prefixes (prefix hits), append, write,
 * commit, fork (handing children to other threads), evict (truncate and unlink a block), read and
 * close, on a small pool whose allocations and chunk commits also fail at random (an injected
 * fault). One thread is a hostile tenant that writes a poison value into everything it holds and
 * commits it. Every read checks that a request sees exactly its own K/V (a function of its tenant
 * and token prefix; never the poison); at the end every block is free or cached (conservation) and
 * none is leaked.
 */
class CacheConcurrencyStressTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 4, 2, 8);
    static final CacheLayout LAYOUT = new CacheLayout(SHAPE, KvDType.F32, 4);
    static final int BLOCKS = 48;
    static final int THREADS = 4;
    static final int OPS = 1_500;
    static final int POISON_TENANT = 2;
    static final float POISON = -7777f;
    static final long[] SALTS = {0x11L, 0x22L, 0x33L};
    static final int[][] PREFIXES = {{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3, 4, 9, 9, 9, 9, 9}, {7, 7, 7, 7, 7}};

    /** Allocations fail 2% and chunk commits 5% of the time, from whatever thread. */
    static final class RandomFaults implements FaultInjector {
        final AtomicLong fired = new AtomicLong();

        @Override
        public boolean failAllocation(int blocks) {
            return fire(0.02);
        }

        @Override
        public boolean failChunkCommit(int chunk) {
            return fire(0.05);
        }

        private boolean fire(double p) {
            if (ThreadLocalRandom.current().nextDouble() < p) {
                fired.incrementAndGet();
                return true;
            }
            return false;
        }
    }

    /** A request as its owner sees it: tenant, token ids, the stamp written at each position (-1: none). */
    static final class Owned {
        final Sequence seq;
        final int tenant;
        final List<Integer> ids;
        final List<Integer> stamps;

        Owned(Sequence seq, int tenant, List<Integer> ids, List<Integer> stamps) {
            this.seq = seq;
            this.tenant = tenant;
            this.ids = ids;
            this.stamps = stamps;
        }
    }

    /** What tenant {@code t} computes at position {@code p}: a function of the tenant and the whole prefix. */
    static int stamp(int tenant, List<Integer> ids, int p) {
        return Math.floorMod(31 * tenant + ids.subList(0, p + 1).hashCode(), 200_000) + 1;
    }

    /** The stamp a request of {@code tenant} writes at {@code p}: 0 (the poison) for the hostile tenant. */
    static int stampOf(int tenant, List<Integer> ids, int p) {
        return tenant == POISON_TENANT ? 0 : stamp(tenant, ids, p);
    }

    static float value(int stamp, int layer, int kv, int i) {
        return stamp * 64f + layer * 32 + kv * 16 + i; // exact in F32, positive
    }

    @Test
    void concurrentAllocForkWriteCommitHitEvictCloseKeepConservationAndNoForeignBytes() throws Exception {
        check(PoolThreading.LOCKED);
    }

    /** Issue 27: the same on a pool with thread caches (blocks freed on one thread, taken by another). */
    @Test
    void withThreadCachesConcurrentAllocForkWriteCommitHitEvictCloseKeepConservationAndNoForeignBytes()
            throws Exception {
        check(PoolThreading.THREAD_CACHES);
    }

    private static void check(PoolThreading threading) throws Exception {
        RandomFaults faults = new RandomFaults();
        try (PagedKvCache cache = PagedKvCache.builder(LAYOUT, BLOCKS).blocksPerChunk(4).faults(faults)
                .threading(threading).build()) {
            ConcurrentLinkedQueue<Owned> handOff = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < THREADS; t++) {
                int tenant = t == THREADS - 1 ? POISON_TENANT : t % 2;
                long seed = System.nanoTime() + t;
                threads.add(new Thread(() -> {
                    try {
                        run(cache, handOff, tenant, seed);
                    } catch (Throwable e) {
                        failures.add(new AssertionError("thread of tenant " + tenant + ", seed " + seed, e));
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread th : threads) {
                th.join();
            }
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError(failures.size() + " thread(s) failed");
                failures.forEach(e::addSuppressed);
                throw e;
            }
            for (Owned o; (o = handOff.poll()) != null; ) {
                verify(o);
                o.seq.close();
            }
            CacheStats st = cache.stats();
            assertEquals(0, st.openSequences());
            assertEquals(0, st.usedBlocks(), "no block leaked: " + st);
            assertEquals(BLOCKS, st.freeBlocks() + st.cachedBlocks(), "conservation: " + st);
            assertEquals(0, st.liveTokens());
            cache.resetPrefixCache();
            assertEquals(BLOCKS, cache.freeBlocks(), "every block free once the index is dropped");
            assertTrue(faults.fired.get() > 0, "injected faults fired");
            assertTrue(cache.prefixStats().hits() > 0, "prefix hits happened");
        }
    }

    private static void run(PagedKvCache cache, ConcurrentLinkedQueue<Owned> handOff, int tenant, long seed) {
        Random r = new Random(seed);
        List<Owned> mine = new ArrayList<>();
        for (int op = 0; op < OPS; op++) {
            int pick = r.nextInt(100);
            if (mine.isEmpty() || pick < 12) {
                if (mine.size() >= 5) {
                    Owned o = mine.remove(0);
                    verify(o);
                    o.seq.close();
                }
                mine.add(open(cache, tenant, r));
                continue;
            }
            Owned o = mine.get(r.nextInt(mine.size()));
            if (pick < 40) {
                int[] more = {90 + r.nextInt(2), 90 + r.nextInt(2)};
                int n = 1 + r.nextInt(2);
                if (o.seq.tryAppendTokens(more, 0, n)) {
                    for (int i = 0; i < n; i++) {
                        o.ids.add(more[i]);
                        o.stamps.add(-1);
                    }
                }
                writeNext(o, r.nextInt(4));
                if (r.nextBoolean()) {
                    o.seq.commitPrefix();
                }
            } else if (pick < 55) {
                verify(o);
            } else if (pick < 65) {
                Owned child = new Owned(o.seq.fork(), o.tenant, new ArrayList<>(o.ids), new ArrayList<>(o.stamps));
                if (r.nextBoolean()) {
                    handOff.add(child);
                } else {
                    mine.add(child);
                }
            } else if (pick < 70) {
                Owned adopted = handOff.poll();
                if (adopted != null) {
                    mine.add(adopted);
                }
            } else if (pick < 77) {
                int keep = r.nextInt(o.ids.size() + 1);
                o.seq.truncate(keep);
                o.ids.subList(keep, o.ids.size()).clear();
                o.stamps.subList(keep, o.stamps.size()).clear();
            } else if (pick < 82) {
                int bs = LAYOUT.blockSize();
                if (o.ids.size() >= bs) {
                    o.seq.unlinkBlock(0);
                    o.ids.subList(0, bs).clear();
                    o.stamps.subList(0, bs).clear();
                }
            } else {
                mine.remove(o);
                verify(o);
                o.seq.close();
            }
        }
        for (Owned o : mine) {
            verify(o);
            o.seq.close();
        }
    }

    private static Owned open(PagedKvCache cache, int tenant, Random r) {
        int[] base = PREFIXES[r.nextInt(PREFIXES.length)];
        int[] prompt = java.util.Arrays.copyOf(base, base.length + r.nextInt(3));
        for (int i = base.length; i < prompt.length; i++) {
            prompt[i] = 90 + r.nextInt(2);
        }
        Sequence s = cache.openSequence(prompt, PrefixKeys.salted(SALTS[tenant]));
        Owned o = new Owned(s, tenant, new ArrayList<>(), new ArrayList<>());
        int reused = s.reusedTokens();
        for (int i = 0; i < reused; i++) {
            o.ids.add(prompt[i]);
        }
        for (int i = 0; i < reused; i++) {
            o.stamps.add(stampOf(tenant, o.ids, i)); // what the request that committed the block wrote
        }
        if (s.tryAppendTokens(prompt, reused, prompt.length - reused)) {
            for (int i = reused; i < prompt.length; i++) {
                o.ids.add(prompt[i]);
                o.stamps.add(-1);
            }
            writeNext(o, prompt.length);
            s.commitPrefix();
        }
        verify(o);
        return o;
    }

    /** Writes the next {@code n} unwritten positions in order (all layers); stops at a failed copy-on-write. */
    private static void writeNext(Owned o, int n) {
        float[] k = new float[SHAPE.kvHeads() * SHAPE.headDim()];
        float[] v = new float[k.length];
        int from = o.seq.writtenTokens();
        int end = Math.min(o.ids.size(), from + n);
        for (int p = from; p < end; p++) {
            int stamp = stampOf(o.tenant, o.ids, p);
            try {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int i = 0; i < k.length; i++) {
                        k[i] = stamp == 0 ? POISON : value(stamp, l, 0, i);
                        v[i] = stamp == 0 ? POISON : value(stamp, l, 1, i);
                    }
                    o.seq.write(l, p, k, v);
                }
            } catch (PoolExhaustedException e) {
                return; // nothing written at p
            }
            o.stamps.set(p, stamp);
        }
    }

    /** Every position below the written mark reads back exactly the owner's K/V; the mark matches. */
    private static void verify(Owned o) {
        Sequence s = o.seq;
        assertEquals(o.ids.size(), s.length(), "length");
        int written = s.writtenTokens();
        float[] got = new float[SHAPE.headDim()];
        for (int p = 0; p < o.ids.size(); p++) {
            int stamp = o.stamps.get(p);
            assertEquals(p < written, stamp >= 0, "position " + p + " written exactly below the mark " + written);
            if (stamp < 0) {
                continue;
            }
            for (int l = 0; l < SHAPE.layers(); l++) {
                for (int h = 0; h < SHAPE.kvHeads(); h++) {
                    s.readKey(l, h, p, got, 0);
                    for (int i = 0; i < got.length; i++) {
                        float want = stamp == 0 ? POISON : value(stamp, l, 0, h * SHAPE.headDim() + i);
                        if (got[i] == POISON && o.tenant != POISON_TENANT) {
                            throw new AssertionError("tenant " + o.tenant + " read the hostile tenant's poison at " + p);
                        }
                        assertEquals(want, got[i], "tenant " + o.tenant + " position " + p + " layer " + l + " head " + h);
                    }
                }
            }
        }
    }
}
