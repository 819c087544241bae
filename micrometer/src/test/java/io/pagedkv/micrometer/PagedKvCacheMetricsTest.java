package io.pagedkv.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

class PagedKvCacheMetricsTest {

    private static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);

    private static double gauge(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).gauge().value();
    }

    private static double counter(MeterRegistry r, String name) {
        return r.get(name).tags("cache", "t").functionCounter().count();
    }

    @Test
    void blockGaugesFollowTheCacheAndAlwaysSumToTheTotal() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            MeterRegistry r = new SimpleMeterRegistry();
            new PagedKvCacheMetrics(cache, Tags.of("cache", "t")).bindTo(r);
            assertEquals(16, gauge(r, "pagedkv.blocks", "state", "free", "cache", "t"));
            assertEquals(16, gauge(r, "pagedkv.blocks.total", "cache", "t"));

            int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            Sequence a = cache.openSequence(prompt);
            a.appendTokens(prompt, 0, prompt.length);           // 3 blocks
            float[] kv = new float[8];
            for (int p = 0; p < prompt.length; p++) {
                a.write(0, p, kv, kv);
            }
            a.commitPrefix();                                   // 2 full blocks indexed
            Sequence fork = a.fork();                            // shares 3 blocks
            assertEquals(3, gauge(r, "pagedkv.blocks", "state", "used", "cache", "t"));
            assertEquals(3, gauge(r, "pagedkv.blocks.shared", "cache", "t"));
            assertEquals(2, gauge(r, "pagedkv.sequences.open", "cache", "t"));
            assertEquals(18, gauge(r, "pagedkv.tokens.live", "cache", "t"));
            assertEquals(6, gauge(r, "pagedkv.slots.empty", "cache", "t"));
            assertEquals(2, gauge(r, "pagedkv.prefix.blocks.indexed", "cache", "t"));

            fork.write(0, 8, kv, kv);                            // copies the shared last block
            assertEquals(1, counter(r, "pagedkv.copy.on.write"));
            fork.close();
            a.close();                                           // the 2 indexed blocks stay cached
            assertEquals(2, gauge(r, "pagedkv.blocks", "state", "cached", "cache", "t"));
            assertEquals(0, gauge(r, "pagedkv.blocks", "state", "used", "cache", "t"));
            CacheStats s = cache.stats();
            assertEquals(s.freeBlocks(), gauge(r, "pagedkv.blocks", "state", "free", "cache", "t"));
            assertEquals(16, gauge(r, "pagedkv.blocks", "state", "free", "cache", "t")
                    + gauge(r, "pagedkv.blocks", "state", "used", "cache", "t")
                    + gauge(r, "pagedkv.blocks", "state", "cached", "cache", "t"));

            Sequence b = cache.openSequence(prompt);             // reuses the 8 cached tokens
            assertEquals(8, b.reusedTokens());
            assertEquals(2, counter(r, "pagedkv.prefix.queries"));
            assertEquals(1, counter(r, "pagedkv.prefix.hits"));
            assertEquals(8, counter(r, "pagedkv.prefix.hit.tokens"));
            assertEquals(18, counter(r, "pagedkv.prefix.query.tokens"));
            assertEquals(cache.pool().reservedBytes(), gauge(r, "pagedkv.memory.reserved", "cache", "t"));
            b.close();
        }
    }

    @Test
    void aClosedCacheReportsItsLastStateInsteadOfFailingTheScrape() {
        MeterRegistry r = new SimpleMeterRegistry();
        PagedKvCache cache = new PagedKvCache(LAYOUT, 8);
        new PagedKvCacheMetrics(cache).bindTo(r);
        Sequence s = cache.openSequence();
        s.append(5);
        assertEquals(2, r.get("pagedkv.blocks").tags("state", "used").gauge().value());
        cache.close();
        assertEquals(2, r.get("pagedkv.blocks").tags("state", "used").gauge().value());
        assertEquals(1, r.get("pagedkv.sequences.open").gauge().value());
    }

    @Test
    void nullArgumentsAreRejectedWithTheirName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PagedKvCacheMetrics(null));
        assertEquals("cache: null (expected: a PagedKvCache)", e.getMessage());
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            assertThrows(IllegalArgumentException.class, () -> new PagedKvCacheMetrics(cache, null));
        }
    }
}
