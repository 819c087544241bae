package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

class AttentionReducerTest {

    static final ModelShape GQA = ModelShape.of("gqa", 2, 4, 2, 8); // 2 query heads per KV head

    static void addAll(AttentionReducer r) {
        r.begin(3);
        for (int l = 0; l < 2; l++) {
            for (int q = 0; q < 4; q++) {
                float b = l * 4 + q;
                r.add(l, q, new float[] {b, 1, 10 - b}, 0);
            }
        }
        r.finish();
    }

    @Test
    void sequenceSumMeanAndMaxCombineEveryLayerAndHead() {
        AttentionReducer sum = new AttentionReducer(GQA, AttentionReducer.Granularity.SEQUENCE, AttentionReducer.Reduction.SUM, 2);
        addAll(sum);
        assertArrayEquals(new float[] {28, 8, 52}, java.util.Arrays.copyOf(sum.row(0), 3));
        AttentionReducer mean = new AttentionReducer(GQA, AttentionReducer.Granularity.SEQUENCE, AttentionReducer.Reduction.MEAN, 2);
        addAll(mean);
        assertArrayEquals(new float[] {3.5f, 1, 6.5f}, java.util.Arrays.copyOf(mean.row(0), 3));
        AttentionReducer max = new AttentionReducer(GQA, AttentionReducer.Granularity.SEQUENCE, AttentionReducer.Reduction.MAX, 2);
        addAll(max);
        assertArrayEquals(new float[] {7, 1, 10}, java.util.Arrays.copyOf(max.row(0), 3));
    }

    @Test
    void kvHeadGranularityCombinesOnlyTheQueryHeadsOfOneGqaGroup() {
        AttentionReducer r = new AttentionReducer(GQA, AttentionReducer.Granularity.KV_HEAD, AttentionReducer.Reduction.SUM, 3);
        assertEquals(4, r.rows());
        addAll(r);
        // Layer 1, KV head 1 = query heads 2 and 3 of layer 1: b = 6 and 7.
        assertEquals(3, r.rowOf(1, 2));
        assertArrayEquals(new float[] {13, 2, 7}, java.util.Arrays.copyOf(r.row(3), 3));
    }

    @Test
    void layerGranularityKeepsOneRowPerLayer() {
        AttentionReducer r = new AttentionReducer(GQA, AttentionReducer.Granularity.LAYER, AttentionReducer.Reduction.MAX, 3);
        addAll(r);
        assertArrayEquals(new float[] {3, 1, 10}, java.util.Arrays.copyOf(r.row(0), 3));
        assertArrayEquals(new float[] {7, 1, 6}, java.util.Arrays.copyOf(r.row(1), 3));
    }

    @Test
    void outOfRangeHeadsAndShortRowsAreRefused() {
        AttentionReducer r = new AttentionReducer(GQA, AttentionReducer.Granularity.SEQUENCE, AttentionReducer.Reduction.SUM, 3);
        r.begin(3);
        assertThrows(IndexOutOfBoundsException.class, () -> r.add(0, 4, new float[3], 0));
        assertThrows(IllegalArgumentException.class, () -> r.add(0, 0, new float[2], 0));
    }
}
