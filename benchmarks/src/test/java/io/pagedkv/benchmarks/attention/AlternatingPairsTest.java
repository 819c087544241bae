package io.pagedkv.benchmarks.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AlternatingPairsTest {

    /** Paged iterations cost {@code ratio} times the contiguous ones while the machine's speed drifts by 2x. */
    private static double[] drifting(int warmups, int n, double ratio) {
        double[] it = new double[n];
        for (int i = 0; i < n; i++) {
            double machine = 100 * (1 + (double) i / n); // slows down steadily, iteration by iteration
            boolean paged = (warmups + i) % 2 == 0;
            it[i] = paged ? machine * ratio : machine;
        }
        return it;
    }

    @Test
    void anEvenWarmupCountMeansTheFirstMeasuredIterationRanPaged() {
        AlternatingPairs pairs = AlternatingPairs.of(12, new double[] {5, 1, 6, 2, 7});
        assertArrayEquals(new double[] {5, 6, 7}, pairs.paged());
        assertArrayEquals(new double[] {1, 2}, pairs.contiguous());
        assertArrayEquals(new double[] {5.0 / 1, 6.0 / 1.5, 7.0 / 2}, pairs.ratios(), 1e-12);
    }

    @Test
    void anOddWarmupCountMeansTheFirstMeasuredIterationRanContiguous() {
        AlternatingPairs pairs = AlternatingPairs.of(3, new double[] {1, 5, 2, 6});
        assertArrayEquals(new double[] {5, 6}, pairs.paged());
        assertArrayEquals(new double[] {1, 2}, pairs.contiguous());
        assertArrayEquals(new double[] {5.0 / 1.5, 6.0 / 2}, pairs.ratios(), 1e-12);
    }

    @Test
    void theRatioStaysNearTheTrueCostWhileTheMachineDriftsThoughTheMediansOfEachSideDoNot() {
        for (int warmups : new int[] {0, 1, 12}) {
            AlternatingPairs pairs = AlternatingPairs.of(warmups, drifting(warmups, 40, 1.1));
            // A neighbour mean lags or leads the paged iteration by at most one iteration of drift (2.5%).
            assertEquals(1.1, pairs.ratio(), 1.1 * 0.003, "warmups " + warmups);
        }
        // The drift the pairs cancel is what separate runs would carry into their ratio: the last
        // iteration is nearly 2x slower than the first.
        double[] it = drifting(0, 40, 1.0);
        assertTrue(it[39] / it[0] > 1.9);
    }

    @Test
    void aSinglePairIsEnoughAndFewerIsRejectedNamingTheCounts() {
        assertEquals(2.0, AlternatingPairs.of(0, new double[] {4, 2}).ratio(), 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlternatingPairs.of(0, new double[] {4}));
        assertTrue(e.getMessage().contains("warmups, iterations: 0, 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AlternatingPairs.of(-1, new double[] {4, 2}));
        assertThrows(IllegalArgumentException.class, () -> AlternatingPairs.of(0, null));
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwoAndOfNoneIsNaN() {
        assertEquals(2.5, AlternatingPairs.median(new double[] {4, 1, 3, 2}), 0);
        assertEquals(3, AlternatingPairs.median(new double[] {5, 3, 1}), 0);
        assertTrue(Double.isNaN(AlternatingPairs.median(new double[0])));
    }
}
