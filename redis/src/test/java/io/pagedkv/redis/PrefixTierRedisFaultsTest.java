package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixHasher;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.engine.KvWriter;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.TierKv;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.LayoutFingerprint;
import io.pagedkv.tier.PrefixTier;
import io.pagedkv.tier.PrefixTierStats;
import io.pagedkv.tier.TierRestore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 26, must show 2: the prefix cache over a real Redis under faults. Redis stopped mid-run,
 * Redis at maxmemory evicting keys, a value corrupted in Redis, a value of another model or layout:
 * in each case every admitted request reads back exactly the K/V of its own tokens (the fake model's
 * K/V depends on the whole prefix, so a wrong block shows), requests keep being served by recomputing
 * what the tier could not give, and the pool conserves its blocks ({@code free + used + cached ==
 * total}, nothing in use once all requests ended).
 */
class PrefixTierRedisFaultsTest {

    /** 4 layers, 4 KV heads of 64, F32, 16-token blocks: 128 KiB a block, so a small maxmemory holds few. */
    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tier-redis", 4, 4, 4, 64), KvDType.F32, 16);

    /** One server: a cache over Redis with its planner, a writer and the tier. */
    static final class Server implements AutoCloseable {
        final PagedKvCache cache;
        final StepPlanner planner;
        final KvWriter writer;
        final RedisBlockStore store;
        final BlockTransferQueue queue;
        final PrefixTier tier;

        Server(String url, int blocks, LayoutFingerprint fp) {
            this(url, blocks, fp, LAYOUT);
        }

        Server(String url, int blocks, LayoutFingerprint fp, CacheLayout layout) {
            cache = new PagedKvCache(layout, blocks);
            planner = new StepPlanner(cache, 0);
            writer = planner.newWriter();
            store = RedisBlockStore.connect(RedisTierConfig.of(url).withCommandTimeout(Duration.ofMillis(500))
                    .withReconnectDelayMax(Duration.ofMillis(200)));
            queue = BlockTransferQueue.forLayout(store, layout, 32, 32, 2);
            tier = PrefixTier.attach(cache, queue, fp);
        }

        /** Prefills {@code prompt} (after any restore) and preempts it in swap mode: its blocks go to Redis. */
        int writeThrough(int[] prompt) throws InterruptedException {
            cache.resetPrefixCache(); // computed afresh: blocks already offloaded are not offered twice
            StepSequence s = TierKv.prefill(planner, writer, prompt, PrefixKeys.NONE);
            assertNotNull(s);
            int n = planner.preemptAndOffload(s);
            assertTrue(queue.awaitIdle(10, TimeUnit.SECONDS));
            return n;
        }

        /** Looks the prompt up (bounded wait), admits and prefills it, checks what it was served, releases. */
        int serve(int[] prompt) throws InterruptedException {
            TierRestore r = tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
            if (r != null) {
                r.await(2, TimeUnit.SECONDS);
            }
            StepSequence s = TierKv.prefill(planner, writer, prompt, PrefixKeys.NONE); // reads back what it was served
            assertNotNull(s, "served");
            int cached = s.cachedTokens();
            planner.release(s);
            cache.resetPrefixCache(); // the next request starts from a cold pool: only the tier can help
            TierKv.assertConserved(cache);
            return cached;
        }

        @Override
        public void close() {
            tier.close();
            queue.close();
            store.close();
            assertEquals(0, cache.stats().usedBlocks(), "nothing held once every request ended");
            cache.close();
        }
    }

    static LayoutFingerprint fp(String model) {
        return LayoutFingerprint.of(model, LAYOUT, null);
    }

    @Test
    void redisStoppedMidRunKeepsServingByRecomputingAndRestoresAgainOnceItIsBack() throws Exception {
        try (RedisServer redis = RedisServer.launch(); Server a = new Server(redis.url(), 16, fp("m"));
                Server b = new Server(redis.url(), 16, fp("m"))) {
            int[] p1 = TierKv.prompt(1, 70);
            assertEquals(4, a.writeThrough(p1));
            assertEquals(64, b.serve(p1), "restored from Redis while it runs");

            redis.stop();
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                assertEquals(0, b.serve(p1), "Redis away: recomputed");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 2500, "a request with Redis away took " + ms + " ms (expected: fail fast)");
            }
            assertTrue(b.tier.stats().endedByUnavailable() >= 3, b.tier.stats().toString());
            int[] p2 = TierKv.prompt(2, 50);
            a.writeThrough(p2); // offloads fail, counted by the queue; the request itself is unaffected
            assertTrue(a.queue.stats().offloadsRefused() >= 3, a.queue.stats().toString());

            redis.start(); // same port, empty
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            int got = 0;
            int[] p3 = TierKv.prompt(3, 40);
            while (got == 0 && System.nanoTime() < deadline) {
                a.writeThrough(p3);
                got = b.serve(p3);
                if (got == 0) {
                    Thread.sleep(100);
                }
            }
            assertEquals(32, got, "reconnected: blocks flow again");
            assertEquals(0, b.serve(p1), "the restarted Redis lost p1: a miss, recomputed");
        }
    }

    @Test
    void redisAtMaxmemoryEvictingKeysGivesMissesAndShorterChainsNeverWrongBytes() throws Exception {
        // 128 KiB blocks, 2 MiB of memory for values: about a dozen blocks stay
        try (RedisServer redis = RedisServer.launch("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru");
                Server a = new Server(redis.url(), 12, fp("m")); Server b = new Server(redis.url(), 12, fp("m"))) {
            int prompts = 12;
            for (int i = 0; i < prompts; i++) {
                a.writeThrough(TierKv.prompt(100 + i, 50)); // 3 blocks each: 36 blocks into room for about 20
            }
            int full = 0;
            int partial = 0;
            int none = 0;
            for (int i = 0; i < prompts; i++) {
                int cached = b.serve(TierKv.prompt(100 + i, 50));
                if (cached == 48) {
                    full++;
                } else if (cached > 0) {
                    partial++;
                } else {
                    none++;
                }
            }
            PrefixTierStats st = b.tier.stats();
            System.out.printf("maxmemory 3mb, allkeys-lru: %d prompts of 3 blocks offloaded; restored whole %d, in part %d,"
                    + " not at all %d; %s%n", prompts, full, partial, none, st);
            assertTrue(none + partial > 0, "Redis evicted some blocks: " + st);
            assertTrue(full > 0, "and kept others: " + st);
            assertEquals(none + partial, st.endedByMiss(), "every shortened chain ended on a miss: " + st);
            assertEquals(0, st.endedByRejected());
        }
    }

    @Test
    void aValueCorruptedInRedisIsRejectedDeletedAndRecomputed() throws Exception {
        try (RedisServer redis = RedisServer.launch(); Server a = new Server(redis.url(), 16, fp("m"));
                Server b = new Server(redis.url(), 16, fp("m"))) {
            int[] p = TierKv.prompt(4, 70);
            a.writeThrough(p);
            long h = PrefixHasher.ROOT;
            for (int blk = 0; blk < 3; blk++) {
                h = PrefixHasher.standard().hash(h, p, blk * 16, 16, 0);
            }
            BlockKey third = fp("m").key(h, 0);
            RedisBlockStoreTest.raw(redis.url(), r -> r.setrange(b.store.redisKey(third), 48 + 64 + 1000,
                    new byte[] {0x11, 0x22}));
            assertEquals(32, b.serve(p), "blocks 0 and 1 restored, the chain ends at the corrupt block 2");
            assertEquals(1, b.tier.stats().endedByRejected());
            assertEquals(1, b.store.stats().corrupt());
            assertFalse(b.store.contains(third), "the corrupt value was deleted");
            a.writeThrough(p); // rewritten by the next preemption
            assertEquals(64, b.serve(p));
        }
    }

    @Test
    void aValueOfAnotherModelOrLayoutIsNeverServed() throws Exception {
        CacheLayout f16 = new CacheLayout(LAYOUT.shape(), io.pagedkv.dtype.KvDType.F16, 16);
        try (RedisServer redis = RedisServer.launch(); Server a = new Server(redis.url(), 16, fp("model-a"));
                Server b = new Server(redis.url(), 16, fp("model-b"));
                Server c = new Server(redis.url(), 16, LayoutFingerprint.of("model-a", f16, null), f16)) {
            int[] p = TierKv.prompt(5, 70);
            a.writeThrough(p);
            assertEquals(0, b.serve(p), "another model's blocks are other keys: a miss");
            assertEquals(0, c.tier.lookup(p, p.length, PrefixKeys.NONE).await(2, TimeUnit.SECONDS),
                    "another layout (F16) of the same model: a miss");
            // a foreign value planted under this model's key (a buggy or hostile writer) is rejected
            long h = PrefixHasher.standard().hash(PrefixHasher.ROOT, p, 0, 16, 0);
            byte[] theirs = a.store.redisKey(fp("model-a").key(h, 0));
            byte[] mine = b.store.redisKey(fp("model-b").key(h, 0));
            RedisBlockStoreTest.raw(redis.url(), r -> r.set(mine, r.get(theirs)));
            assertEquals(0, b.serve(p), "the planted value is rejected, the tokens recomputed");
            assertEquals(1, b.tier.stats().endedByRejected());
            assertEquals(1, b.store.stats().mismatched());
            assertEquals(64, a.serve(p), "the owner still restores its own");
        }
    }
}
