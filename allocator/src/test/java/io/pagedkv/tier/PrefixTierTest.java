package io.pagedkv.tier;

import static io.pagedkv.testfixtures.TierKv.LAYOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.engine.KvWriter;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.testfixtures.TierKv;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The prefix cache over a tier: reclaimed and swap-preempted blocks are offloaded, a prompt that
 * misses the pool is restored from the tier in chain order and admitted with the restored blocks as
 * prefix hits; every outcome that is not a verified hit frees the fresh blocks and the tokens are
 * recomputed; blocks are conserved throughout.
 */
class PrefixTierTest {

    static final long STORE_BYTES = 1 << 20;

    /** One "server": a cache, its planner and writer, a queue over a shared store, the tier. */
    static final class Server implements AutoCloseable {
        final PagedKvCache cache;
        final StepPlanner planner;
        final KvWriter writer;
        final BlockTransferQueue queue;
        final PrefixTier tier;

        Server(BlockStore store, int blocks, int offloadSlots, LayoutFingerprint fp) {
            cache = new PagedKvCache(LAYOUT, blocks);
            planner = new StepPlanner(cache, 0);
            writer = planner.newWriter();
            queue = BlockTransferQueue.forLayout(store, LAYOUT, offloadSlots, 16, 1);
            tier = PrefixTier.attach(cache, queue, fp);
        }

        Server(BlockStore store, int blocks) {
            this(store, blocks, 16, LayoutFingerprint.of(LAYOUT));
        }

        /** Fills the pool with a plain request, reclaiming every cached block, then releases it. */
        void flushPool() {
            int tokens = cache.availableBlocks() * LAYOUT.blockSize() - 1;
            StepSequence hog = TierKv.prefill(planner, writer, TierKv.prompt(999, tokens), PrefixKeys.salted(77));
            assertNotNull(hog);
            planner.release(hog);
            cache.resetPrefixCache(); // drop the hog's own blocks: the pool holds nothing cached
        }

        @Override
        public void close() {
            tier.close();
            queue.close();
            cache.close();
        }
    }

    @Test
    void aReclaimedPrefixGoesToTheTierAndAMissIsRestoredFromItAsPrefixHitsReadingBackItsOwnKv() throws Exception {
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES); Server s = new Server(store, 12)) {
            int[] prompt = TierKv.prompt(1, 14); // 3 full blocks before the last token
            StepSequence a = TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE);
            s.planner.release(a);
            s.flushPool();
            assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(0, s.planner.probe(prompt, prompt.length, PrefixKeys.NONE).cachedTokens(), "gone from the pool");
            assertTrue(s.tier.stats().offloadsOffered() >= 3, s.tier.stats().toString());

            TierRestore r = s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
            assertNotNull(r);
            assertEquals(0, r.firstBlock());
            assertEquals(3, r.askedBlocks());
            assertEquals(3, r.await(5, TimeUnit.SECONDS));
            TierKv.assertConserved(s.cache);
            long hitsBefore = s.cache.prefixStats().hitTokens();
            StepSequence b = TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE);
            assertEquals(12, b.cachedTokens(), "the restored blocks are prefix hits");
            assertEquals(12, s.cache.prefixStats().hitTokens() - hitsBefore);
            PrefixTierStats st = s.tier.stats();
            assertEquals(3, st.blocksRestored());
            assertEquals(12, st.tokensRestored());
            assertEquals(3L, st.hitsByMedium().get("cpu"));
            s.planner.release(b);
            TierKv.assertConserved(s.cache);
        }
    }

    @Test
    void aSecondCacheOnTheSameStoreRestoresAPromptTheFirstPreemptedInSwapMode() throws Exception {
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES);
                Server one = new Server(store, 12); Server two = new Server(store, 12)) {
            int[] prompt = TierKv.prompt(2, 18);
            StepSequence a = TierKv.prefill(one.planner, one.writer, prompt, PrefixKeys.salted(5));
            assertEquals(4, one.planner.preemptAndOffload(a), "4 full written blocks offloaded at preemption");
            assertTrue(one.queue.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(0, one.planner.running());

            TierRestore r = two.tier.lookup(prompt, prompt.length, PrefixKeys.salted(5));
            assertEquals(4, r.await(5, TimeUnit.SECONDS));
            StepSequence b = TierKv.prefill(two.planner, two.writer, prompt, PrefixKeys.salted(5));
            assertEquals(16, b.cachedTokens());

            // another salt (tenant) never finds them: the chain names differ
            TierRestore other = two.tier.lookup(prompt, prompt.length, PrefixKeys.salted(6));
            assertEquals(0, other.await(5, TimeUnit.SECONDS));
            assertEquals(1, two.tier.stats().endedByMiss());
            TierKv.assertConserved(two.cache);
        }
    }

    @Test
    void aRestoreStartsAfterThePoolsOwnPrefixAndHangsFromIt() throws Exception {
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES); Server s = new Server(store, 16)) {
            int[] longer = TierKv.prompt(3, 22);
            StepSequence a = TierKv.prefill(s.planner, s.writer, longer, PrefixKeys.NONE);
            s.planner.preemptAndOffload(a);
            assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
            s.cache.resetPrefixCache();
            int[] shorter = java.util.Arrays.copyOf(longer, 9); // 2 blocks: cache them in the pool again
            StepSequence c = TierKv.prefill(s.planner, s.writer, shorter, PrefixKeys.NONE);
            s.planner.release(c);

            TierRestore r = s.tier.lookup(longer, longer.length, PrefixKeys.NONE);
            assertEquals(2, r.firstBlock(), "the pool holds blocks 0 and 1");
            assertEquals(3, r.askedBlocks());
            assertEquals(3, r.await(5, TimeUnit.SECONDS));
            StepSequence b = TierKv.prefill(s.planner, s.writer, longer, PrefixKeys.NONE);
            assertEquals(20, b.cachedTokens());
            TierKv.assertConserved(s.cache);
        }
    }

    @Test
    void theScheduleNeverWaitsAnUnansweredRestoreIsPolledAndATimedOutOneFreesItsBlocksUnwritten() throws Exception {
        try (HostMemoryStore host = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES)) {
            GatedStore store = new GatedStore(host);
            try (Server s = new Server(store, 12)) {
                int[] prompt = TierKv.prompt(4, 14);
                s.planner.preemptAndOffload(TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE));
                assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
                s.cache.resetPrefixCache();
                int free = s.cache.freeBlocks();

                store.shut(); // the store hangs (a network stall)
                long t0 = System.nanoTime();
                TierRestore r = s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "lookup returns at once");
                assertEquals(free - 3, s.cache.freeBlocks(), "3 fresh blocks held by the restore");
                for (int step = 0; step < 3; step++) {
                    assertTrue(!r.poll(), "pending while the store is silent");
                }
                assertEquals(0, r.await(20, TimeUnit.MILLISECONDS), "gave up: nothing restored");
                assertEquals(free, s.cache.freeBlocks(), "the fresh blocks are free again");
                store.open();
                assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
                assertEquals(1, s.tier.stats().endedByTimeout());
                StepSequence b = TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE);
                assertEquals(0, b.cachedTokens(), "recomputed");
                TierKv.assertConserved(s.cache);

                // answered by polling on later steps, no wait at all
                s.planner.release(b);
                s.cache.resetPrefixCache();
                TierRestore p = s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!p.poll() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertEquals(3, p.restoredBlocks());
            }
        }
    }

    @Test
    void aStoreThatRejectsOrIsAwayEndsTheChainThereAndFreesEveryUnusedBlock() throws Exception {
        try (HostMemoryStore host = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES)) {
            GatedStore store = new GatedStore(host);
            try (Server s = new Server(store, 12)) {
                int[] prompt = TierKv.prompt(5, 14);
                s.planner.preemptAndOffload(TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE));
                assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
                s.cache.resetPrefixCache();
                int free = s.cache.freeBlocks();
                store.unavailable = true;
                assertEquals(0, s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE).await(5, TimeUnit.SECONDS));
                assertEquals(1, s.tier.stats().endedByUnavailable());
                assertEquals(free, s.cache.freeBlocks());
                store.unavailable = false;
                // the second block's value damaged: the first is restored, the chain ends at the second
                BlockKey second = LayoutFingerprint.of(LAYOUT).key(chainHash(prompt, 2), 0);
                assertTrue(host.corruptForTest(second, 100), "test hook damaged the stored value");
                TierRestore r = s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
                assertEquals(1, r.await(5, TimeUnit.SECONDS));
                assertEquals(1, s.tier.stats().endedByRejected());
                assertEquals(free - 0, s.cache.freeBlocks() + s.cache.stats().cachedBlocks());
                StepSequence b = TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE);
                assertEquals(4, b.cachedTokens(), "one restored block reused, the rest recomputed");
                TierKv.assertConserved(s.cache);
            }
        }
    }

    /** The prefix cache's hash of block {@code blocks - 1} of {@code prompt} (no keys). */
    static long chainHash(int[] prompt, int blocks) {
        long h = io.pagedkv.cache.PrefixHasher.ROOT;
        for (int b = 0; b < blocks; b++) {
            h = io.pagedkv.cache.PrefixHasher.standard().hash(h, prompt, b * LAYOUT.blockSize(), LAYOUT.blockSize(), 0);
        }
        return h;
    }

    @Test
    void aFullOffloadQueueDropsAndCountsWhileTheReclaimGoesOn() throws Exception {
        try (HostMemoryStore host = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES)) {
            GatedStore store = new GatedStore(host);
            try (Server s = new Server(store, 12, 1, LayoutFingerprint.of(LAYOUT))) {
                store.shut();
                int[] prompt = TierKv.prompt(6, 14);
                s.planner.release(TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE));
                long t0 = System.nanoTime();
                s.flushPool(); // reclaims 3 blocks with one staging slot and a stuck store
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
                PrefixTierStats st = s.tier.stats();
                assertEquals(3, st.offloadsOffered());
                assertTrue(st.offloadsDropped() >= 2, st.toString());
                store.open();
                TierKv.assertConserved(s.cache);
            }
        }
    }

    @Test
    void aValueOfAnotherModelIsNeverFound() throws Exception {
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES);
                Server a = new Server(store, 12, 16, LayoutFingerprint.of("model-a", LAYOUT, null));
                Server b = new Server(store, 12, 16, LayoutFingerprint.of("model-b", LAYOUT, null))) {
            int[] prompt = TierKv.prompt(7, 14);
            a.planner.preemptAndOffload(TierKv.prefill(a.planner, a.writer, prompt, PrefixKeys.NONE));
            assertTrue(a.queue.awaitIdle(5, TimeUnit.SECONDS));
            assertEquals(0, b.tier.lookup(prompt, prompt.length, PrefixKeys.NONE).await(5, TimeUnit.SECONDS));
            assertEquals(0, b.planner.probe(prompt, prompt.length, PrefixKeys.NONE).cachedTokens());
            TierKv.assertConserved(b.cache);
        }
    }

    @Test
    void badArgumentsNameTheValueAndChangeNothing() throws Exception {
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES); Server s = new Server(store, 12)) {
            var before = s.cache.stats();
            int[] p = TierKv.prompt(8, 10);
            assertThrows(IllegalArgumentException.class, () -> s.cache.beginPrefixRestore(null, 1, PrefixKeys.NONE, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> s.cache.beginPrefixRestore(p, 11, PrefixKeys.NONE, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> s.cache.beginPrefixRestore(p, 10, null, 1, 0));
            var e = assertThrows(IllegalArgumentException.class, () -> s.cache.beginPrefixRestore(p, 10, PrefixKeys.NONE, 0, 0));
            assertTrue(e.getMessage().contains("maxBlocks: 0"), e.getMessage());
            try (BlockTransferQueue small = new BlockTransferQueue(store, 2, 64, 1, 1, 1)) {
                var e2 = assertThrows(IllegalArgumentException.class,
                        () -> PrefixTier.attach(s.cache, small, LayoutFingerprint.of(LAYOUT)));
                assertTrue(e2.getMessage().contains("2 tokens"), e2.getMessage());
            }
            assertNull(s.tier.lookup(p, 4, PrefixKeys.NONE), "no full block before the last token: nothing to look up");
            assertEquals(before, s.cache.stats());
            var r = s.cache.beginPrefixRestore(p, 10, PrefixKeys.NONE, 8, 0);
            assertEquals(2, r.blockCount());
            assertThrows(IllegalArgumentException.class, () -> r.commit(3));
            assertEquals(0, r.commit(0));
            assertThrows(IllegalStateException.class, () -> r.commit(0));
            assertEquals(before, s.cache.stats());
        }
    }

    @Test
    void theDocsLoopRestoresAPreemptedPromptInASecondCache() throws Exception {
        CacheLayout layout = LAYOUT;
        int[] prompt = TierKv.prompt(9, 14);
        try (HostMemoryStore store = HostMemoryStore.forLayout(layout, STORE_BYTES);
                Server first = new Server(store, 12);
                PagedKvCache cache = new PagedKvCache(layout, 12);
                BlockTransferQueue queue = BlockTransferQueue.forLayout(store, layout, 64, 64, 2)) {
            first.planner.preemptAndOffload(TierKv.prefill(first.planner, first.writer, prompt, PrefixKeys.NONE));
            assertTrue(first.queue.awaitIdle(5, TimeUnit.SECONDS));
            StepPlanner planner = new StepPlanner(cache, 0);
            StepSequence seq = null;
            // snippet:tiers-prefix-tier
            PrefixTier tier = PrefixTier.attach(cache, queue, LayoutFingerprint.of(layout)); // offload hook installed
            TierRestore r = tier.lookup(prompt, prompt.length, PrefixKeys.NONE); // at once; null: nothing to look up
            while (seq == null) {                                   // the scheduler's steps
                if (r == null || r.poll()) {                        // never blocks
                    seq = planner.admit(prompt, prompt.length, PrefixKeys.NONE); // restored blocks are prefix hits
                }
                // ... run this step's batch ...
            }
            // ... prefill seq.length() .. prompt.length, decode ...
            planner.preemptAndOffload(seq);                         // swap mode: its written blocks go down too
            // end-snippet
            assertEquals(12, seq.cachedTokens());
            assertEquals(3, tier.stats().blocksRestored());
            tier.close();
        }
    }

    @Test
    void pollingInATightLoopNeverTakesAHitThatJustLandedForAMiss() throws Exception {
        // poll() once read "not done" and then "done" as two answers of one ticket: a hit landing in
        // between ended the chain with nothing restored (about one try in two; found by this class)
        try (HostMemoryStore store = HostMemoryStore.forLayout(LAYOUT, STORE_BYTES); Server s = new Server(store, 12)) {
            int[] prompt = TierKv.prompt(10, 14);
            s.planner.preemptAndOffload(TierKv.prefill(s.planner, s.writer, prompt, PrefixKeys.NONE));
            assertTrue(s.queue.awaitIdle(5, TimeUnit.SECONDS));
            for (int i = 0; i < 200; i++) {
                s.cache.resetPrefixCache();
                TierRestore r = s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
                while (!r.poll()) {
                    Thread.onSpinWait();
                }
                assertEquals(3, r.restoredBlocks(), "try " + i + ": " + s.tier.stats());
            }
            assertEquals(0, s.tier.stats().endedByQueue());
            TierKv.assertConserved(s.cache);
        }
    }
}
