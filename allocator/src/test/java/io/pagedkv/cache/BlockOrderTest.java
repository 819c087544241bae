package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/** The two orders of a block: offsets, strides, what each refuses, and what carries the order along. */
class BlockOrderTest {

    static final ModelShape SHAPE = ModelShape.of("small", 3, 6, 3, 32);

    @Test
    void everyHeadVectorHasItsOwnBytesAndTheBlockIsCoveredExactlyInBothOrders() {
        for (KvDType dtype : KvDType.values()) {
            for (BlockOrder order : BlockOrder.values()) {
                CacheLayout layout = new CacheLayout(SHAPE, dtype, 5, order);
                boolean[] used = new boolean[Math.toIntExact(layout.bytesPerBlock())];
                for (int l = 0; l < 3; l++) {
                    for (int kv = 0; kv < 2; kv++) {
                        for (int h = 0; h < 3; h++) {
                            for (int s = 0; s < 5; s++) {
                                long off = layout.offset(l, kv, h, s);
                                assertEquals(off, layout.unsafeOffset(l, kv, h, s));
                                assertTrue(off >= (l * 2L + kv) * layout.partBytes()
                                        && off + layout.headBytes() <= (l * 2L + kv + 1) * layout.partBytes(),
                                        "inside its (layer, K|V) part: " + order + " " + dtype);
                                for (int b = 0; b < layout.headBytes(); b++) {
                                    assertFalse(used[(int) off + b], order + " " + dtype + " overlap at " + (off + b));
                                    used[(int) off + b] = true;
                                }
                            }
                        }
                    }
                }
                for (int b = 0; b < used.length; b++) {
                    assertTrue(used[b], order + " " + dtype + " byte " + b + " belongs to no head vector");
                }
            }
        }
    }

    @Test
    void headRunsKeepsTheFormulaOfBeforeAndTokenRunsPutsATokensHeadsSideBySide() {
        CacheLayout heads = new CacheLayout(SHAPE, KvDType.F16, 16);
        CacheLayout tokens = heads.withOrder(BlockOrder.TOKEN_RUNS);
        assertEquals(BlockOrder.HEAD_RUNS, heads.order());
        assertEquals(64, heads.headBytes());
        // before the order existed: ((layer * 2 + kv) * kvHeads + head) * headRunBytes + slot * headBytes
        assertEquals(((2 * 2 + 1) * 3 + 2) * 16 * 64 + 7 * 64, heads.offset(2, CacheLayout.V, 2, 7));
        assertEquals(64, heads.slotStrideBytes());
        assertEquals(16 * 64, heads.headStrideBytes());
        assertEquals(3 * 64, tokens.tokenRunBytes());
        assertEquals(3 * 64, tokens.slotStrideBytes());
        assertEquals(64, tokens.headStrideBytes());
        assertEquals((2 * 2 + 1) * 3 * 16 * 64 + (7 * 3 + 2) * 64, tokens.offset(2, CacheLayout.V, 2, 7));
        assertEquals(tokens.offset(1, CacheLayout.K, 0, 4) + tokens.tokenRunBytes(), tokens.offset(1, CacheLayout.K, 0, 5));
        assertEquals(tokens.runOffset(1, CacheLayout.K, 2), tokens.offset(1, CacheLayout.K, 2, 0));
        assertEquals(heads.bytesPerBlock(), tokens.bytesPerBlock());
        assertNotEquals(heads, tokens);
        assertSame(heads, heads.withOrder(BlockOrder.HEAD_RUNS));
        assertEquals(heads, CacheLayout.of(SHAPE, KvDType.F16));
    }

    @Test
    void badInputNamesTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CacheLayout(SHAPE, KvDType.F16, 16, null));
        assertTrue(e.getMessage().contains("order: null (expected: BlockOrder.HEAD_RUNS or TOKEN_RUNS)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BlockOrder.parse("rows"));
        assertEquals("block order: 'rows' (expected: head-runs or token-runs)", e.getMessage());
        assertEquals(BlockOrder.TOKEN_RUNS, BlockOrder.parse("token-runs"));
        assertEquals(BlockOrder.HEAD_RUNS, BlockOrder.parse("HEAD_RUNS"));
        assertEquals("token-runs", BlockOrder.TOKEN_RUNS.label());
    }

    @Test
    void theContiguousPerHeadViewsRefuseTokenRunsNamingTheOrderAndLeaveTheCacheUsable() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F32, 4, BlockOrder.TOKEN_RUNS);
        try (PagedKvCache cache = new PagedKvCache(layout, 4); Sequence seq = cache.openSequence()) {
            seq.append(3);
            float[] k = new float[3 * 32];
            float[] v = new float[3 * 32];
            k[32 + 5] = 9f;
            seq.write(0, 0, new float[3 * 32], v);
            seq.write(0, 1, k, v);
            int block = seq.blockId(0);
            for (Runnable view : new Runnable[] {() -> cache.keys(block, 0, 0), () -> cache.values(block, 0, 0),
                    () -> seq.keys(0, 0, 0), () -> seq.values(0, 0, 0)}) {
                IllegalStateException e = assertThrows(IllegalStateException.class, view::run);
                assertTrue(e.getMessage().contains("layout order TOKEN_RUNS (expected: HEAD_RUNS"), e.getMessage());
            }
            float[] got = new float[32];
            seq.readKey(0, 1, 1, got, 0);
            assertEquals(9f, got[5]);
            assertEquals(9f, cache.block(block).get(java.lang.foreign.ValueLayout.JAVA_FLOAT,
                    layout.offset(0, CacheLayout.K, 1, 1) + 5 * Float.BYTES));
        }
    }

    @Test
    void layerGroupsAndTheirGroupedCacheKeepTheModelsOrder() {
        CacheLayout model = CacheLayout.of(ModelPresets.GEMMA_2_9B, KvDType.F16).withOrder(BlockOrder.TOKEN_RUNS);
        LayerGroups groups = LayerGroups.of(ModelPresets.GEMMA_2_9B);
        assertEquals(BlockOrder.TOKEN_RUNS, groups.groupLayout(model).order());
        try (GroupedKvCache cache = new GroupedKvCache(model, groups, 4)) {
            assertEquals(BlockOrder.TOKEN_RUNS, cache.groupLayout().order());
            assertEquals(BlockOrder.TOKEN_RUNS, cache.group(0).layout().order());
        }
    }
}
