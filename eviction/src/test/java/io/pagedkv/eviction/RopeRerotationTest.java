package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RopeRerotationTest {

    @Test
    void rerotatingFromTheOriginalPositionEqualsRotatingAtTheNewPosition() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (RopeStyle style : RopeStyle.values()) {
            for (int trial = 0; trial < 200; trial++) {
                int d = 2 * rnd.nextInt(1, 65);
                float[] raw = new float[d];
                for (int i = 0; i < d; i++) {
                    raw[i] = (float) rnd.nextGaussian();
                }
                int from = rnd.nextInt(0, 131_072);
                int to = rnd.nextInt(0, from + 1);
                float[] atFrom = new float[d];
                float[] atTo = new float[d];
                float[] moved = new float[d];
                RopeRerotation.rotate(raw, 0, d, from, 500_000, style, atFrom, 0);
                RopeRerotation.rotate(raw, 0, d, to, 500_000, style, atTo, 0);
                RopeRerotation.rerotate(atFrom, 0, d, from, to, 500_000, style, moved, 0);
                assertArrayEquals(atTo, moved, 2e-5f, style + " d=" + d + " " + from + "->" + to);
            }
        }
    }

    @Test
    void rerotationPreservesTheNormAndMovingToTheSamePositionIsTheIdentity() {
        float[] k = {1, 2, 3, 4, 5, 6};
        float[] out = new float[6];
        RopeRerotation.rerotate(k, 0, 6, 77, 77, 10_000, RopeStyle.HALF_SPLIT, out, 0);
        assertArrayEquals(k, out, 0f);
        RopeRerotation.rerotate(k, 0, 6, 77, 3, 10_000, RopeStyle.INTERLEAVED, out, 0);
        double n0 = 0;
        double n1 = 0;
        for (int i = 0; i < 6; i++) {
            n0 += k[i] * k[i];
            n1 += out[i] * out[i];
        }
        assertEquals(n0, n1, 1e-4);
    }

    @Test
    void aTableOfAnglesAppliedGivesExactlyWhatRerotateGives() {
        SplittableRandom rnd = new SplittableRandom(8);
        for (RopeStyle style : RopeStyle.values()) {
            for (int trial = 0; trial < 100; trial++) {
                int d = 2 * rnd.nextInt(1, 65);
                float[] key = new float[d];
                for (int i = 0; i < d; i++) {
                    key[i] = (float) rnd.nextGaussian();
                }
                int from = rnd.nextInt(0, 5000);
                int to = rnd.nextInt(0, 5000);
                float[] expected = new float[d];
                RopeRerotation.rerotate(key, 0, d, from, to, 10_000, style, expected, 0);
                float[] cos = new float[d / 2];
                float[] sin = new float[d / 2];
                RopeRerotation.angles(d, (double) to - from, 10_000, cos, sin);
                RopeRerotation.apply(key, 0, d, cos, sin, style, key, 0); // in place
                assertArrayEquals(expected, key, 0f, style + " d=" + d);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> RopeRerotation.angles(8, 1, 10_000, new float[3], new float[4]));
        assertThrows(IllegalArgumentException.class,
                () -> RopeRerotation.apply(new float[8], 1, 8, new float[4], new float[4], RopeStyle.INTERLEAVED, new float[8], 0));
    }

    @Test
    void oddHeadDimsAndShortBuffersAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> RopeRerotation.rerotate(new float[3], 0, 3, 0, 1, 10_000, RopeStyle.INTERLEAVED, new float[3], 0));
        assertThrows(IllegalArgumentException.class,
                () -> RopeRerotation.rerotate(new float[4], 1, 4, 0, 1, 10_000, RopeStyle.INTERLEAVED, new float[4], 0));
    }
}
