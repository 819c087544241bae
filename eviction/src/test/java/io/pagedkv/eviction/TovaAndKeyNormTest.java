package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TovaAndKeyNormTest {

    @Test
    void tovaEvictsTheLowestWeightOfTheCurrentObservationOnlyAndTiesGoToTheOldest() {
        Tova t = new Tova(3);
        int[] victims = new int[4];
        for (int i = 0; i < 3; i++) {
            t.onAppend(i, i);
        }
        t.onAttention(0, 0, new float[] {0.1f, 0.4f, 0.1f}, 0, 3);
        assertEquals(1, t.evict(1, victims));
        assertEquals(0, victims[0], "tie between positions 0 and 2: the oldest goes");
        t.onAppend(0, 3);
        // one observation of two heads: their rows add up (slot 1: 0.8 + 0.0, slot 2: 0.0 + 0.1)
        t.onAttention(0, 0, new float[] {0.2f, 0.8f, 0.0f}, 0, 3);
        t.onAttention(0, 1, new float[] {0.8f, 0.0f, 0.1f}, 0, 3);
        assertEquals(1, t.evict(1, victims));
        assertEquals(2, victims[0], "slot 2 has the smallest summed weight of this observation");
        t.onAppend(2, 4);
        // no new row: the token just placed in slot 2 is unscored and ranks above every scored one
        assertEquals(1, t.evict(1, victims));
        assertEquals(1, victims[0], "slot 1 (0.8) goes before slot 0 (1.0); slot 2 is not scored yet");
    }

    @Test
    void keyNormEvictsTheLargestMeanNormOutsideSinksAndRecent() {
        KeyNorm k = new KeyNorm(4, 1, 1);
        int[] victims = new int[4];
        float[][] keys = {{9, 9}, {1, 0}, {3, 4}, {0, 2}};
        for (int i = 0; i < 4; i++) {
            k.onAppend(i, i);
            k.onKey(0, 0, i, keys[i], 0, 2);
        }
        assertEquals(1, k.evict(1, victims));
        assertEquals(2, victims[0], "norm 5 is the largest among candidates 1 (norm 1) and 2 (norm 5); the sink has norm 12.7");
        KeyNorm two = new KeyNorm(3, 0, 0);
        two.onAppend(0, 0);
        two.onKey(0, 0, 0, new float[] {3, 4}, 0, 2);
        two.onKey(0, 1, 0, new float[] {6, 8}, 0, 2);
        assertEquals(7.5f, two.meanNorm(0), 1e-6f, "the mean of the per-head norms 5 and 10");
    }
}
