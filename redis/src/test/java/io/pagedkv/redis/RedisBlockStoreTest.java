package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.BlockStore;
import io.pagedkv.tier.BlockValueFormat;
import io.pagedkv.tier.LayoutFingerprint;
import io.pagedkv.tier.TierStats;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The Redis tier against a real redis-server started per test on a free loopback port (skipped with a
 * message when redis-server is absent): byte-exact round trips, and every fault of issue 26: Redis
 * stopped mid-run, maxmemory eviction, a corrupted value, a value of another layout.
 */
class RedisBlockStoreTest {

    static final CacheLayout F16 = new CacheLayout(ModelShape.of("peer", 2, 4, 2, 64), KvDType.F16, 16);
    static final CacheLayout BF16 = new CacheLayout(ModelShape.of("peer", 2, 4, 2, 64), KvDType.BF16, 16);
    static final int BLOCK = (int) F16.bytesPerBlock();
    static final LayoutFingerprint FP = LayoutFingerprint.of(F16);

    static BlockKey key(long hash) {
        return FP.key(hash, 0);
    }

    static boolean put(BlockStore s, long i) {
        return s.put(key(i), i - 1, TestBlocks.tokens(i, 16), 0, 16, TestBlocks.payload(i, BLOCK));
    }

    static int get(BlockStore s, long i, MemorySegment dst) {
        return s.get(key(i), i - 1, TestBlocks.tokens(i, 16), 0, 16, dst);
    }

    /** A raw Lettuce connection for tampering with values behind the store's back. */
    static void raw(String url, Consumer<io.lettuce.core.api.sync.RedisCommands<byte[], byte[]>> body) {
        RedisClient c = RedisClient.create(url);
        try (StatefulRedisConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE)) {
            body.accept(conn.sync());
        } finally {
            c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    @Test
    void blocksRoundTripByteForByteAndClearTouchesOnlyTheTiersKeys() throws Exception {
        try (RedisServer server = RedisServer.launch(); RedisBlockStore store = RedisBlockStore.connect(server.url())) {
            raw(server.url(), r -> r.set("unrelated".getBytes(), "keep".getBytes()));
            for (int i = 1; i <= 20; i++) {
                assertTrue(put(store, i));
            }
            MemorySegment dst = MemorySegment.ofArray(new byte[BLOCK]);
            for (int i = 1; i <= 20; i++) {
                assertEquals(BLOCK, get(store, i, dst));
                assertTrue(TestBlocks.holds(dst, i), "bytes of block " + i);
            }
            assertEquals(BlockStore.MISS, get(store, 99, dst));
            assertTrue(store.contains(key(3)));
            assertTrue(store.remove(key(3)));
            assertFalse(store.contains(key(3)));
            store.clear();
            assertFalse(store.contains(key(1)));
            raw(server.url(), r -> assertEquals("keep", new String(r.get("unrelated".getBytes()))));
            TierStats s = store.stats();
            assertEquals(20, s.puts());
            assertEquals(20, s.hits());
            assertEquals(1, s.misses());
            assertEquals(0, s.errors());
        }
    }

    @Test
    void redisStoppedMidRunFailsFastCountsAndReconnectsWhenBack() throws Exception {
        try (RedisServer server = RedisServer.launch();
                RedisBlockStore store = RedisBlockStore.connect(RedisTierConfig.of(server.url())
                        .withCommandTimeout(Duration.ofMillis(500)).withReconnectDelayMax(Duration.ofMillis(200)))) {
            MemorySegment dst = MemorySegment.ofArray(new byte[BLOCK]);
            assertTrue(put(store, 1));
            server.stop();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                assertEquals(BlockStore.UNAVAILABLE, get(store, 1, dst));
                assertFalse(put(store, 2));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 1500, "two calls with Redis down took " + ms + " ms (expected: fail fast, at most "
                        + "the 500 ms command timeout each)");
            }
            assertEquals(10, store.stats().errors(), "every failed call counted");
            server.start(); // same port, empty (no persistence)
            long deadline = System.nanoTime() + 15_000_000_000L;
            boolean back = false;
            while (!back && System.nanoTime() < deadline) {
                back = put(store, 3);
                if (!back) {
                    Thread.sleep(50);
                }
            }
            assertTrue(back, "the client reconnected within 15 s");
            assertEquals(BLOCK, get(store, 3, dst));
            assertTrue(TestBlocks.holds(dst, 3));
            assertEquals(BlockStore.MISS, get(store, 1, dst), "the restarted Redis lost block 1: a miss");
        }
    }

    @Test
    void redisAtMaxmemoryEvictingKeysGivesMissesNeverWrongBytes() throws Exception {
        try (RedisServer server = RedisServer.launch("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru");
                RedisBlockStore store = RedisBlockStore.connect(server.url())) {
            int n = 400; // 400 x 16 KiB = 6.4 MiB into 2 MiB
            for (int i = 1; i <= n; i++) {
                assertTrue(put(store, i), "put " + i);
            }
            MemorySegment dst = MemorySegment.ofArray(new byte[BLOCK]);
            int hits = 0;
            int misses = 0;
            for (int i = 1; i <= n; i++) {
                int r = get(store, i, dst);
                if (r == BLOCK) {
                    hits++;
                    assertTrue(TestBlocks.holds(dst, i), "bytes of block " + i);
                } else {
                    assertEquals(BlockStore.MISS, r, "block " + i);
                    misses++;
                }
            }
            assertTrue(misses > 0, "Redis evicted keys (" + misses + " misses)");
            assertTrue(hits > 0, "Redis kept some keys (" + hits + " hits)");
            assertEquals(0, store.stats().rejected());
        }
    }

    @Test
    void redisAtMaxmemoryWithoutEvictionRefusesPutsAndCountsThem() throws Exception {
        try (RedisServer server = RedisServer.launch("--maxmemory", "2mb", "--maxmemory-policy", "noeviction");
                RedisBlockStore store = RedisBlockStore.connect(server.url())) {
            int refused = 0;
            for (int i = 1; i <= 400; i++) {
                if (!put(store, i)) {
                    refused++;
                }
            }
            assertTrue(refused > 0, "OOM refusals: " + refused);
            assertEquals(refused, store.stats().putsRefused());
            assertEquals(refused, store.stats().errors());
            MemorySegment dst = MemorySegment.ofArray(new byte[BLOCK]);
            assertEquals(BLOCK, get(store, 1, dst), "what was stored stays readable");
            assertTrue(TestBlocks.holds(dst, 1));
        }
    }

    @Test
    void aCorruptedValueIsRejectedCountedAndDeletedNeverServed() throws Exception {
        try (RedisServer server = RedisServer.launch(); RedisBlockStore store = RedisBlockStore.connect(server.url())) {
            assertTrue(put(store, 1));
            assertTrue(put(store, 2));
            long payloadAt = BlockValueFormat.payloadOffset(16) + 100;
            raw(server.url(), r -> {
                r.setrange(store.redisKey(key(1)), payloadAt, new byte[] {0x5A});
                r.setrange(store.redisKey(key(2)), 0, "XKVB".getBytes()); // the magic
            });
            MemorySegment dst = TestBlocks.payload(77, BLOCK);
            assertEquals(BlockStore.REJECTED, get(store, 1, dst));
            assertEquals(BlockStore.REJECTED, get(store, 2, dst));
            assertTrue(TestBlocks.holds(dst, 77), "the destination was not written");
            assertEquals(2, store.stats().corrupt());
            assertFalse(store.contains(key(1)), "a corrupt value is deleted");
            assertEquals(BlockStore.MISS, get(store, 1, dst));
        }
    }

    @Test
    void aValueOfAnotherModelOrLayoutIsNeverServed() throws Exception {
        LayoutFingerprint bf16 = LayoutFingerprint.of(BF16);
        LayoutFingerprint otherModel = LayoutFingerprint.of("another-checkpoint", F16, null);
        try (RedisServer server = RedisServer.launch(); RedisBlockStore store = RedisBlockStore.connect(server.url())) {
            int[] tokens = TestBlocks.tokens(5, 16);
            assertTrue(store.put(FP.key(5, 0), 4, tokens, 0, 16, TestBlocks.payload(5, BLOCK)));
            MemorySegment dst = TestBlocks.payload(77, BLOCK);
            assertEquals(BlockStore.MISS, store.get(bf16.key(5, 0), 4, tokens, 0, 16, dst), "other layout: other key");
            assertEquals(BlockStore.MISS, store.get(otherModel.key(5, 0), 4, tokens, 0, 16, dst), "other model");
            assertEquals(BlockStore.MISS, store.get(FP.key(5, 1), 4, tokens, 0, 16, dst), "other salt: other key");
            // A value that reached another layout's key (a misconfigured writer, a renamed key): rejected.
            raw(server.url(), r -> r.copy(store.redisKey(FP.key(5, 0)), store.redisKey(bf16.key(5, 0))));
            assertEquals(BlockStore.REJECTED, store.get(bf16.key(5, 0), 4, tokens, 0, 16, dst));
            assertEquals(BlockStore.REJECTED, store.get(FP.key(5, 0), 4, TestBlocks.tokens(6, 16), 0, 16, dst),
                    "same key, other token ids (a hash collision)");
            assertEquals(BlockStore.REJECTED, store.get(FP.key(5, 0), 3, tokens, 0, 16, dst), "other parent hash");
            assertTrue(TestBlocks.holds(dst, 77), "the destination was not written");
            assertEquals(3, store.stats().mismatched());
            assertEquals(BLOCK, store.get(FP.key(5, 0), 4, tokens, 0, 16, dst), "the right reader still hits");
            assertTrue(TestBlocks.holds(dst, 5));
        }
    }

    @Test
    void aTimeToLiveIsSetOnEveryStoredBlock() throws Exception {
        try (RedisServer server = RedisServer.launch();
                RedisBlockStore store = RedisBlockStore.connect(RedisTierConfig.of(server.url())
                        .withTtl(Duration.ofSeconds(600)))) {
            assertTrue(put(store, 1));
            raw(server.url(), r -> {
                long ttl = r.pttl(store.redisKey(key(1)));
                assertTrue(ttl > 590_000 && ttl <= 600_000, "pttl " + ttl);
            });
        }
    }

    @Test
    void closedStoreRefusesUse() throws Exception {
        try (RedisServer server = RedisServer.launch()) {
            RedisBlockStore store = RedisBlockStore.connect(server.url());
            assertNotNull(store.toString());
            store.close();
            store.close();
            assertThrows(IllegalStateException.class, () -> put(store, 1));
        }
    }
}
