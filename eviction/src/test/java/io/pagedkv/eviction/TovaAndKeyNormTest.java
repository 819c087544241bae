package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TovaAndKeyNormTest {

    @Test
    void tovaEvictsTheLowestWeightOfTheCurrentRowOnlyAndTiesGoToTheOldest() {
        Tova t = new Tova(3);
        int[] victims = new int[4];
        for (int i = 0; i < 4; i++) {
            t.onAppend(i, i);
        }
        t.onAttention(new float[] {0.1f, 0.4f, 0.1f, 0.4f}, 4);
        assertEquals(1, t.evict(victims));
        assertEquals(0, victims[0], "tie between positions 0 and 2: the oldest goes");
        t.onAppend(0, 4);
        // A token not yet scored is never preferred as a victim over a scored one.
        t.onAttention(new float[] {0f, 0.05f, 0.9f, 0.05f}, 4);
        assertEquals(1, t.evict(victims));
        assertEquals(0, victims[0], "only the current row counts: slot 0 (weight 0) goes, slot 2 stays");
    }

    @Test
    void keyNormEvictsTheLargestMeanNormOutsideSinksAndRecent() {
        KeyNorm k = new KeyNorm(3, 1, 1);
        int[] victims = new int[4];
        float[][] keys = {{9, 9}, {1, 0}, {3, 4}, {0, 2}};
        for (int i = 0; i < 4; i++) {
            k.onAppend(i, i);
            k.onKey(i, keys[i], 0, 2);
        }
        assertEquals(1, k.evict(victims));
        assertEquals(2, victims[0], "norm 5 is the largest among candidates 1 (norm 1) and 2 (norm 5); the sink has norm 12.7");
        KeyNorm two = new KeyNorm(3, 0, 0);
        two.onAppend(0, 0);
        two.onKey(0, new float[] {3, 4}, 0, 2);
        two.onKey(0, new float[] {6, 8}, 0, 2);
        assertEquals(7.5f, two.meanNorm(0), 1e-6f, "the mean of the per-head norms 5 and 10");
    }
}
