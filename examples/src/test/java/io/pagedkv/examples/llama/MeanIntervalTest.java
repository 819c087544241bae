package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MeanIntervalTest {

    @Test
    void tQuantilesMatchTheTables() {
        // Student's t 0.975 quantiles (standard tables)
        assertEquals(12.7062, MeanInterval.tQuantile975(1), 1e-4);
        assertEquals(2.2622, MeanInterval.tQuantile975(9), 1e-4);
        assertEquals(2.2281, MeanInterval.tQuantile975(10), 1e-4);
        assertEquals(2.0423, MeanInterval.tQuantile975(30), 1e-4);
        assertEquals(1.99834, MeanInterval.tQuantile975(63), 1e-5);
        assertEquals(1.96234, MeanInterval.tQuantile975(1000), 1e-5);
        for (int df = 1; df < 2000; df++) {
            assertTrue(MeanInterval.tQuantile975(df + 1) < MeanInterval.tQuantile975(df), "decreasing at " + df);
        }
        assertThrows(IllegalArgumentException.class, () -> MeanInterval.tQuantile975(0));
    }

    @Test
    void theIntervalIsTheMeanPlusOrMinusTTimesTheStandardError() {
        // 1..10: mean 5.5, sample sd sqrt(110/12) = 3.02765, t(9) 2.26216: half-width 2.16585
        double[] xs = new double[10];
        for (int i = 0; i < 10; i++) {
            xs[i] = i + 1;
        }
        MeanInterval m = MeanInterval.of(xs);
        assertEquals(5.5, m.mean(), 1e-12);
        assertEquals(2.16585, m.halfWidth(), 1e-5);
        assertEquals(m.mean() - m.halfWidth(), m.low(), 1e-12);
        assertEquals(10, m.n());
        MeanInterval same = MeanInterval.of(new double[] {0.3, 0.3, 0.3});
        assertEquals(0.0, same.halfWidth(), 1e-12);
        MeanInterval one = MeanInterval.of(new double[] {4});
        assertEquals(4, one.low());
        assertEquals(4, one.high());
        assertThrows(IllegalArgumentException.class, () -> MeanInterval.of(new double[0]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MeanInterval.of(new double[] {1, Double.NaN}));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }
}
