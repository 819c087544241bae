package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PoolExhaustedException;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LayerwiseEvictorTest {

    /** One layer per group: 2 KV heads of dim 2, blocks of 4 tokens. */
    static final CacheLayout PER_LAYER = new CacheLayout(ModelShape.of("layer", 1, 2, 2, 2), KvDType.F32, 4);

    static float[] kv(float x) {
        return new float[] {x, x + 0.5f, -x, x};
    }

    @Test
    void eachLayerFreesWhatItDropsAndAPoolOfExactlyTheLayersBudgetsNeverRunsOut() {
        // layer 0 keeps 4 tokens (1 block), layer 1 keeps 12 (3 blocks): the pool has exactly 4 blocks
        try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 4);
                LayerwiseEvictor ev = new LayerwiseEvictor(cache, new SlidingWindow(4), new SlidingWindow(12))) {
            for (int t = 0; t < 50; t++) {
                int p = ev.append(t);
                assertEquals(t, p);
                ev.write(0, p, kv(p), kv(p));
                ev.write(1, p, kv(-p), kv(-p));
            }
            assertEquals(4, ev.liveTokens(0));
            assertEquals(12, ev.liveTokens(1));
            assertEquals(1, ev.blockCount(0));
            assertEquals(3, ev.blockCount(1));
            assertEquals(0, cache.freeBlocks());
            assertFalse(ev.isKept(0, 45), "layer 0 dropped position 45");
            assertTrue(ev.isKept(1, 45), "layer 1 keeps position 45");
            float[] k = new float[2];
            ev.readKey(1, 1, 45, k, 0);
            assertEquals(45f, k[0]); // head 1 of kv(-45) is {45, -45}
            ev.readKey(0, 0, 49, k, 0);
            assertEquals(49f, k[0]);
            assertEquals(46 + 38, ev.tokensEvicted());
        }
    }

    @Test
    void aStepThePoolCannotTakeChangesNoLayerNotEvenTheOneThatCouldHavePlacedIt() {
        try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 3)) {
            Sequence hog = cache.openSequence();
            assertTrue(hog.tryAppend(1)); // holds one block
            try (LayerwiseEvictor ev = new LayerwiseEvictor(cache, new SlidingWindow(4), new SlidingWindow(8))) {
                for (int t = 0; t < 4; t++) {
                    ev.append(t);
                }
                // step 4: layer 0 would evict position 0 and reuse its slot; layer 1 needs a block that is not there
                assertEquals(LayerwiseEvictor.NO_POSITION, ev.tryAppend(4));
                assertThrows(PoolExhaustedException.class, () -> ev.append(4));
                assertEquals(4, ev.nextPosition());
                assertTrue(ev.isKept(0, 0), "layer 0 evicted nothing");
                assertEquals(4, ev.liveTokens(0));
                assertEquals(4, ev.liveTokens(1));
                assertEquals(0, ev.tokensEvicted());
                hog.close();
                assertEquals(4, ev.append(4));
                assertFalse(ev.isKept(0, 0));
                assertTrue(ev.isKept(1, 0));
                assertEquals(3, ev.blocksHeld());
            }
        }
    }

    @Test
    void eachLayerDecidesOnItsOwnAttention() {
        // H2O keeping 4 (2 recent): layer 0's rows favour position 1, layer 1's favour position 2
        try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 8);
                LayerwiseEvictor ev = new LayerwiseEvictor(cache, LayerPolicy.H2O_LAYER.create(8, 2))) {
            float[] row = new float[16];
            for (int t = 0; t < 20; t++) {
                int p = ev.append(t);
                for (int l = 0; l < 2; l++) {
                    ev.write(l, p, kv(p), kv(p));
                    Arrays.fill(row, 0f);
                    for (int s = 0; s < ev.slots(l); s++) {
                        int pos = ev.positionOf(l, s);
                        row[s] = pos == 1 + l ? 0.9f : 0f;
                    }
                    ev.attention(l, 0, row, 0);
                    ev.attention(l, 1, row, 0);
                }
            }
            assertTrue(ev.isKept(0, 1));
            assertFalse(ev.isKept(0, 2));
            assertTrue(ev.isKept(1, 2));
            assertFalse(ev.isKept(1, 1));
            assertEquals(8, ev.liveTokens(0));
            assertEquals(8, ev.liveTokens(1));
        }
    }

    @Test
    void groupsOfSeveralLayersRouteEachModelLayerToItsGroup() {
        CacheLayout twoLayers = new CacheLayout(ModelShape.of("group", 2, 2, 2, 2), KvDType.F32, 4);
        try (PagedKvCache cache = new PagedKvCache(twoLayers, 8);
                LayerwiseEvictor ev = new LayerwiseEvictor(cache, new SlidingWindow(4), new SlidingWindow(8))) {
            assertEquals(4, ev.layers());
            assertEquals(1, ev.groupOf(3));
            for (int t = 0; t < 10; t++) {
                int p = ev.append(t);
                for (int l = 0; l < 4; l++) {
                    ev.write(l, p, kv(10 * l + p), kv(p));
                }
            }
            float[] k = new float[2];
            ev.readKey(3, 0, 5, k, 0);
            assertEquals(35f, k[0]);
            ev.readKey(2, 0, 5, k, 0);
            assertEquals(25f, k[0]);
            assertFalse(ev.isKept(1, 5));
            assertEquals(4, ev.liveTokens(1));
            assertEquals(8, ev.liveTokens(3));
            assertThrows(IllegalArgumentException.class, () -> ev.groupOf(4));
        }
    }

    @Test
    void aPromptIsPlacedWholeThenEachLayerCompressesToItsOwnBudget() {
        int[] budgets = LayerPolicy.PYRAMIDKV.budgets(8, 3);
        try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 20);
                LayerwiseEvictor ev = new LayerwiseEvictor(cache, LayerPolicy.PYRAMIDKV.create(8, 3))) {
            assertEquals(0, ev.prefillWithoutIds(20));
            assertEquals(5, cache.freeBlocks()); // 5 blocks per layer
            float[] row = new float[20];
            Arrays.fill(row, 0.05f);
            for (int l = 0; l < 3; l++) {
                for (int h = 0; h < 2; h++) {
                    ev.attention(l, h, row, 0);
                }
            }
            ev.compress();
            int blocks = 0;
            for (int l = 0; l < 3; l++) {
                assertEquals(budgets[l], ev.liveTokens(l), "layer " + l);
                assertEquals((budgets[l] + 3) / 4, ev.blockCount(l), "layer " + l + " compacted");
                blocks += ev.blockCount(l);
            }
            assertEquals(20 - blocks, cache.freeBlocks());
            assertEquals(24, ev.keptTokens());
        }
    }

    @Test
    void badInputIsRefusedWithNothingChanged() {
        try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 8)) {
            SlidingWindow shared = new SlidingWindow(4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LayerwiseEvictor(cache, shared, shared));
            assertTrue(e.getMessage().contains("same instance"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new LayerwiseEvictor(cache));
            try (LayerwiseEvictor ev = new LayerwiseEvictor(cache, new SlidingWindow(4), new SlidingWindow(8))) {
                for (int t = 0; t < 6; t++) {
                    ev.append(t);
                }
                int most = ev.maxIncoming();
                assertEquals(4, most); // layer 0: a window of 4 can make room for 4
                e = assertThrows(IllegalArgumentException.class, () -> ev.appendChunkWithoutIds(most + 1));
                assertTrue(e.getMessage().contains("maxIncoming 4"), e.getMessage());
                assertEquals(6, ev.nextPosition());
                assertEquals(4, ev.liveTokens(0));
                assertEquals(6, ev.liveTokens(1));
                assertEquals(6, ev.appendChunkWithoutIds(4));
                assertEquals(4, ev.liveTokens(0));
                assertEquals(8, ev.liveTokens(1));
            }
            assertEquals(8, cache.freeBlocks(), "closing the evictor closed every group");
        }
    }
}
