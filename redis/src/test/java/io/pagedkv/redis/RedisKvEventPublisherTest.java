package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.HostMemoryStore;
import io.pagedkv.tier.KvEvent;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * KV events published to a Redis channel reach a subscriber (a router's view): stored with the token
 * ids, removed on eviction and on request, cleared; the salt is never published.
 */
class RedisKvEventPublisherTest {

    @Test
    void aSubscriberSeesStoredRemovedAndClearedEventsOfEveryTier() throws Exception {
        try (RedisServer server = RedisServer.launch()) {
            RedisClient sub = RedisClient.create(server.url());
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            try (StatefulRedisPubSubConnection<String, String> conn = sub.connectPubSub();
                    RedisKvEventPublisher publisher = RedisKvEventPublisher.connect(RedisTierConfig.of(server.url()),
                            "pagedkv:events", "gpu-0");
                    HostMemoryStore host = new HostMemoryStore(2 * 136, 4, 64);
                    RedisBlockStore redis = RedisBlockStore.connect(server.url())) {
                conn.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        got.add(message);
                    }
                });
                conn.sync().subscribe("pagedkv:events");
                host.addListener(publisher);
                redis.addListener(publisher);
                int[] tokens = {5, 6, 7, 8};
                BlockKey a = new BlockKey(0xABL, 0x1L, 0x5A17L);
                host.put(a, 0x5eedL, tokens, 0, 4, TestBlocks.payload(1, 64));
                assertEquals("{\"server\":\"gpu-0\",\"event\":\"stored\",\"medium\":\"cpu\",\"fingerprint\":"
                        + "\"00000000000000ab\",\"hash\":\"0000000000000001\",\"parent\":\"0000000000005eed\","
                        + "\"tokens\":[5,6,7,8]}", next(got));
                host.put(new BlockKey(0xAB, 2, 0), 1, tokens, 0, 4, TestBlocks.payload(2, 64));
                next(got);
                host.put(new BlockKey(0xAB, 3, 0), 2, tokens, 0, 4, TestBlocks.payload(3, 64)); // evicts a
                assertEquals("{\"server\":\"gpu-0\",\"event\":\"removed\",\"medium\":\"cpu\",\"fingerprint\":"
                        + "\"00000000000000ab\",\"hash\":\"0000000000000001\"}", next(got));
                assertTrue(next(got).contains("\"event\":\"stored\",\"medium\":\"cpu\""));
                redis.put(a, 0x5eedL, tokens, 0, 4, TestBlocks.payload(1, 64));
                assertTrue(next(got).contains("\"event\":\"stored\",\"medium\":\"redis\""));
                redis.remove(a);
                assertTrue(next(got).contains("\"event\":\"removed\",\"medium\":\"redis\""));
                redis.clear();
                assertEquals("{\"server\":\"gpu-0\",\"event\":\"cleared\",\"medium\":\"redis\"}", next(got));
                assertTrue(got.stream().noneMatch(m -> m.contains("5a17")), "the salt is never published");
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (publisher.published() < 7 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertEquals(7, publisher.published());
                assertEquals(0, publisher.failures());
            } finally {
                sub.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
        }
    }

    static String next(BlockingQueue<String> q) throws InterruptedException {
        String m = q.poll(5, TimeUnit.SECONDS);
        assertNotNull(m, "an event message within 5 s");
        return m;
    }

    @Test
    void theJsonOfEachEventKind() {
        assertEquals("{\"server\":\"s\",\"event\":\"cleared\",\"medium\":\"disk\"}",
                RedisKvEventPublisher.toJson("s", new KvEvent.AllBlocksCleared("disk")));
        assertEquals("{\"server\":\"s\",\"event\":\"removed\",\"medium\":\"cpu\",\"fingerprint\":\"ffffffffffffffff\","
                + "\"hash\":\"0000000000000010\"}",
                RedisKvEventPublisher.toJson("s", new KvEvent.BlockRemoved("cpu", new BlockKey(-1, 16, 3))));
    }
}
