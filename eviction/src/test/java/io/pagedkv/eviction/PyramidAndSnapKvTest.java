package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PyramidAndSnapKvTest {

    @Test
    void thePyramidScheduleIsHandCheckable() {
        // rest 12: top max(1, 12/20) = 1, bottom 23, line 23, 15.67, 8.33, 1 -> 23, 15, 8, 1 (47), +1 at the bottom
        assertArrayEquals(new int[] {28, 19, 12, 5}, PyramidBudgets.schedule(16, 4, 4, 20));
        assertArrayEquals(new int[] {16}, PyramidBudgets.schedule(16, 1, 4, 20));
        assertArrayEquals(new int[] {135, 101, 67, 33}, PyramidBudgets.schedule(84, 4, 16, 4)); // rest 68: top 17, bottom 119, step 34
    }

    /** Invariant, over every small case: the budgets sum to layers x uniform, never increase with depth, keep protect + 1. */
    @Test
    void everyScheduleHasTheUniformTotalAndNeverGrowsWithDepth() {
        for (int layers = 1; layers <= 40; layers++) {
            for (int protect = 0; protect <= 8; protect++) {
                for (int uniform = protect + 1; uniform <= 140; uniform += 3) {
                    for (int beta : new int[] {1, 2, 7, 20}) {
                        int[] b = PyramidBudgets.schedule(uniform, layers, protect, beta);
                        String what = "uniform " + uniform + ", layers " + layers + ", protect " + protect + ", beta "
                                + beta + ": " + Arrays.toString(b);
                        assertEquals((long) uniform * layers, Arrays.stream(b).asLongStream().sum(), what);
                        for (int l = 0; l < layers; l++) {
                            assertTrue(b[l] >= protect + 1, what);
                            assertTrue(l == 0 || b[l] <= b[l - 1], what);
                        }
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> PyramidBudgets.schedule(4, 3, 4, 20));
    }

    /** Prefill of 8 tokens, then the window's two queries (one head each) shown in one observation, then compression. */
    private static int[] keptAfterPrefill(int kernel) {
        SnapKv p = new SnapKv(4, 2, kernel);
        for (int t = 0; t < 8; t++) {
            p.onAppend(t, t);
        }
        float[] q6 = new float[8];
        q6[1] = 0.8f;
        q6[6] = 0.2f;
        float[] q7 = new float[8];
        q7[4] = 0.5f;
        q7[7] = 0.5f;
        p.onAttention(0, 0, q6, 0, 8); // query at position 6
        p.onAttention(0, 0, q7, 0, 8); // the same (layer, head) again: the next query
        int[] victims = new int[8];
        assertEquals(4, p.evict(0, victims));
        int[] kept = new int[4];
        int n = p.liveSlots(kept);
        int[] out = Arrays.copyOf(kept, n);
        Arrays.sort(out);
        return out;
    }

    @Test
    void snapKvKeepsTheWindowAndTheTokensItsQueriesVoteForPooledOverNeighbours() {
        // kernel 1 (no pooling): votes 0.8 at 1, 0.5 at 4; kept 1, 4 and the window 6, 7
        assertArrayEquals(new int[] {1, 4, 6, 7}, keptAfterPrefill(1));
        // kernel 3: pooled 0.8 at 0, 1, 2 and 0.5 at 3, 4, 5; the 0.5s go, then the oldest 0.8: kept 1, 2
        assertArrayEquals(new int[] {1, 2, 6, 7}, keptAfterPrefill(3));
    }

    @Test
    void theWindowSlidesOverTheNewestQueries() {
        // window 1: only the last query's vote counts; two heads per query
        SnapKv p = new SnapKv(3, 1, 1);
        for (int t = 0; t < 5; t++) {
            p.onAppend(t, t);
        }
        float[] old = {0, 0.9f, 0, 0, 0.1f};
        float[] now = {0, 0, 0.9f, 0, 0.1f};
        p.onAttention(0, 0, old, 0, 5);
        p.onAttention(0, 1, old, 0, 5);
        p.onAttention(0, 0, now, 0, 5); // (0, 0) again: a new query, which replaces the old one
        p.onAttention(0, 1, now, 0, 5);
        int[] victims = new int[4];
        assertEquals(2, p.evict(0, victims));
        assertTrue(p.isLive(2) && p.isLive(4) && !p.isLive(1), "kept: 2, the window 4; evicted " + victims[0] + ", " + victims[1]);
        assertThrows(IllegalArgumentException.class, () -> new SnapKv(8, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> new SnapKv(2, 2, 3));
    }
}
