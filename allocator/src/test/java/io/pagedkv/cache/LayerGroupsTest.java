package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

class LayerGroupsTest {

    @Test
    void gemma2SplitsIntoASlidingGroupOfEvenLayersAndAGlobalGroupOfOddLayers() {
        LayerGroups g = LayerGroups.of(ModelPresets.GEMMA_2_9B);
        assertEquals(2, g.groupCount());
        assertEquals(21, g.layersPerGroup());
        assertEquals(42, g.modelLayers());
        assertEquals(LayerGroups.Kind.SLIDING, g.kind(0));
        assertEquals(4096, g.window(0));
        assertEquals(LayerGroups.Kind.GLOBAL, g.kind(1));
        assertEquals(0, g.window(1));
        assertEquals(1, g.groupOf(7));
        assertEquals(3, g.layerInGroup(7));
        assertEquals(0, g.groupOf(40));
        assertEquals(20, g.layerInGroup(40));
        for (int l = 0; l < 42; l++) {
            assertEquals(l, g.modelLayer(g.groupOf(l), g.layerInGroup(l)));
        }
        assertEquals(4096 / 16 + 1, g.maxWindowBlocks(0, 16));
        assertEquals(Integer.MAX_VALUE, g.maxWindowBlocks(1, 16));
    }

    @Test
    void aGlobalModelIsOneGroupWhoseLayoutIsTheModelLayout() {
        LayerGroups g = LayerGroups.of(ModelPresets.LLAMA_3_1_8B);
        assertEquals(1, g.groupCount());
        assertFalse(g.hasSliding());
        CacheLayout layout = CacheLayout.of(ModelPresets.LLAMA_3_1_8B, KvDType.F16);
        assertSame(layout, g.groupLayout(layout));
    }

    @Test
    void aGroupLayoutHasTheGroupsLayersAndTheModelsHeads() {
        LayerGroups g = LayerGroups.of(ModelPresets.GEMMA_2_9B);
        CacheLayout model = CacheLayout.of(ModelPresets.GEMMA_2_9B, KvDType.F16);
        CacheLayout group = g.groupLayout(model);
        assertEquals(21, group.shape().layers());
        assertEquals(8, group.shape().kvHeads());
        assertEquals(256, group.shape().headDim());
        assertEquals(model.bytesPerBlock(), 2 * group.bytesPerBlock());
    }

    @Test
    void unequalGroupsAreRefusedNamingTheCounts() {
        ModelShape odd = new ModelShape("odd", 43, 16, 8, 64, 128,
                io.pagedkv.model.AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerGroups.of(odd));
        assertTrue(e.getMessage().contains("22 sliding and 21 global"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LayerGroups.of(
                new LayerGroups.Kind[] {LayerGroups.Kind.GLOBAL, LayerGroups.Kind.GLOBAL}, new int[] {0, 0},
                new int[][] {{0, 1}, {1, 2}}));
        assertThrows(IllegalArgumentException.class, () -> LayerGroups.of(
                new LayerGroups.Kind[] {LayerGroups.Kind.SLIDING}, new int[] {0}, new int[][] {{0}}));
        assertThrows(IndexOutOfBoundsException.class, () -> LayerGroups.single(4).groupOf(4));
    }
}
