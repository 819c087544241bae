package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gens.floats() reaches every special value within a bounded number of draws. */
class FloatSpecialsTest {
    /** With about 1/80 chance per draw, missing one special in 1000 draws has odds near 1e-5. */
    static final int BOUND = 1000;

    @Test
    void everySpecialValueAppearsWithinTheBound() {
        for (long seed = 1; seed <= 3; seed++) {
            Map<Integer, Integer> firstSeen = new HashMap<>();
            Gen<Float> floats = Gens.floats();
            for (int i = 0; i < BOUND; i++) {
                float f = floats.generate(Choices.random(Runner.caseSeed(seed, i)));
                firstSeen.putIfAbsent(Float.floatToIntBits(f), i); // NaN payloads collapse to one NaN
            }
            for (float special : FloatSpecials.ALL) {
                if (!firstSeen.containsKey(Float.floatToIntBits(special))) {
                    fail("seed " + seed + ": " + special + " (bits 0x"
                            + Integer.toHexString(Float.floatToRawIntBits(special)) + ") not drawn in " + BOUND);
                }
            }
        }
    }

    @Test
    void specialsIncludeTheNarrowFormatBoundaries() {
        assertTrue(FloatSpecials.ALL.contains(65504f));
        assertTrue(FloatSpecials.ALL.contains(6.1035156e-5f));
        assertTrue(FloatSpecials.ALL.contains(5.9604645e-8f));
        assertTrue(FloatSpecials.ALL.contains(3.3895314e38f));
        assertTrue(FloatSpecials.ALL.stream().anyMatch(f -> Float.floatToRawIntBits(f) == 0x8000_0000));
        assertTrue(FloatSpecials.ALL.contains(Float.MIN_VALUE));
    }
}
