package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The standard generators: ranges, biases, simplest values and argument checks. */
class GensTest {
    static final int DRAWS = 2000;

    static <T> Set<T> sample(Gen<T> gen, long seed) {
        Set<T> seen = new HashSet<>();
        for (int i = 0; i < DRAWS; i++) {
            seen.add(gen.generate(Choices.random(Runner.caseSeed(seed, i))));
        }
        return seen;
    }

    static <T> T simplest(Gen<T> gen) {
        return gen.generate(Choices.replay(new long[0]));
    }

    @Test
    void intsStayInRangeAndHitTheBoundsAndZeroOneMinusOne() {
        int[][] ranges = {{-1000, 1000}, {Integer.MIN_VALUE, Integer.MAX_VALUE}, {5, 9}, {-9, -5}, {0, 0}, {-1, 1}};
        for (int[] r : ranges) {
            Set<Integer> seen = sample(Gens.ints(r[0], r[1]), 1);
            for (int v : seen) {
                assertTrue(v >= r[0] && v <= r[1], v + " outside " + r[0] + ".." + r[1]);
            }
            assertTrue(seen.contains(r[0]) && seen.contains(r[1]), "bounds of " + r[0] + ".." + r[1]);
            for (int special : new int[] {0, 1, -1}) {
                if (special >= r[0] && special <= r[1]) {
                    assertTrue(seen.contains(special), special + " in " + r[0] + ".." + r[1]);
                }
            }
        }
    }

    @Test
    void intsFavourPowersOfTwoAndSmallValues() {
        Set<Integer> seen = sample(Gens.ints(0, 1 << 30), 2);
        int powers = 0;
        for (int k = 0; k <= 30; k++) {
            powers += seen.contains(1 << k) ? 1 : 0;
        }
        assertTrue(powers >= 20, "powers of two seen: " + powers);
        Gen<Integer> gen = Gens.ints(0, 1 << 30);
        int small = 0;
        for (int i = 0; i < DRAWS; i++) {
            small += gen.generate(Choices.random(Runner.caseSeed(2, i))) < 100 ? 1 : 0;
        }
        assertTrue(small >= DRAWS / 8, "draws below 100: " + small + " of " + DRAWS); // uniform: ~0
    }

    @Test
    void longsReachBothExtremes() {
        Set<Long> seen = sample(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE), 3);
        assertTrue(seen.contains(Long.MIN_VALUE) && seen.contains(Long.MAX_VALUE) && seen.contains(-1L));
    }

    @Test
    void allZeroChoicesGiveTheSimplestValue() {
        assertEquals(0, simplest(Gens.ints(-3, 3)));
        assertEquals(5, simplest(Gens.ints(5, 10)));
        assertEquals(-5, simplest(Gens.ints(-10, -5)));
        assertEquals(0L, simplest(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE)));
        assertEquals(false, simplest(Gens.booleans()));
        assertEquals(0, Float.floatToRawIntBits(simplest(Gens.floats())));
        assertEquals(0, Float.floatToRawIntBits(simplest(Gens.finiteFloats(-1f, 1f))));
        assertEquals(2f, simplest(Gens.finiteFloats(2f, 3f)));
        assertEquals(-2f, simplest(Gens.finiteFloats(-3f, -2f)));
        assertEquals(List.of(0, 0), simplest(Gens.lists(Gens.ints(0, 9), 2, 5)));
        assertEquals("a", simplest(Gens.oneOf("a", "b")));
        assertEquals(0, simplest(Gens.floatArrays(Gens.floats(), 0, 4)).length);
    }

    @Test
    void finiteFloatsStayInRangeAndReachBoundsZerosAndSubnormals() {
        Set<Float> seen = sample(Gens.finiteFloats(-2.5f, 100f), 4);
        for (float f : seen) {
            assertTrue(Float.isFinite(f) && f >= -2.5f && f <= 100f, f + " outside range");
        }
        assertTrue(seen.contains(-2.5f) && seen.contains(100f) && seen.contains(0f) && seen.contains(-0f));
        assertTrue(seen.contains(Float.MIN_VALUE), "smallest subnormal");
        assertTrue(seen.stream().anyMatch(f -> Math.abs(f) > 0 && Math.abs(f) < Float.MIN_NORMAL), "subnormals");
        assertTrue(seen.contains(FloatSpecials.FP8_E4M3_MAX) == false, "448 is outside the range");
        assertTrue(sample(Gens.finiteFloats(0f, 1000f), 5).contains(FloatSpecials.FP8_E4M3_MAX));
    }

    @Test
    void floatsIncludeNaNPayloadsAndSubnormals() {
        Set<Float> seen = sample(Gens.floats(), 6);
        Set<Integer> nanBits = new HashSet<>();
        Gen<Float> floats = Gens.floats();
        for (int i = 0; i < DRAWS; i++) {
            float f = floats.generate(Choices.random(Runner.caseSeed(6, i)));
            if (Float.isNaN(f)) {
                nanBits.add(Float.floatToRawIntBits(f));
            }
        }
        assertTrue(nanBits.size() >= 2, "distinct NaN bit patterns: " + nanBits.size());
        assertTrue(seen.stream().anyMatch(f -> f != 0 && Math.abs(f) < Float.MIN_NORMAL), "subnormals");
    }

    @Test
    void listsAndArraysRespectTheirLengthBounds() {
        for (List<Integer> list : sample(Gens.lists(Gens.ints(0, 3), 2, 6), 7)) {
            assertTrue(list.size() >= 2 && list.size() <= 6, "length " + list.size());
        }
        Set<Integer> lengths = new HashSet<>();
        for (float[] a : sample(Gens.floatArrays(Gens.floats(), 0, 8), 8)) {
            lengths.add(a.length);
        }
        assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8), lengths);
        assertThrows(UnsupportedOperationException.class,
                () -> simplest(Gens.lists(Gens.ints(0, 1), 1, 1)).add(1));
    }

    @Test
    void combinatorsComposeDeterministically() {
        Gen<int[]> sized = Gens.ints(1, 5).flatMap(n -> Gens.lists(Gens.ints(0, n), n, n))
                .map(list -> list.stream().mapToInt(Integer::intValue).toArray());
        for (int[] a : sample(sized, 9)) {
            for (int v : a) {
                assertTrue(v <= a.length, "element " + v + " above length " + a.length);
            }
        }
        Gen<Integer> evens = Gens.ints(0, 100).filter(x -> x % 2 == 0);
        assertTrue(sample(evens, 10).stream().allMatch(x -> x % 2 == 0));
        record P(int a, boolean b, float c) {
        }
        Gen<P> records = Gens.zip(Gens.ints(0, 3), Gens.booleans(), Gens.finiteFloats(0f, 1f), P::new);
        assertEquals(new P(0, false, 0f), simplest(records));
        assertEquals(sample(records, 11), sample(records, 11));
        assertEquals(Set.of("x", "y", "z"), sample(Gens.choose(Gens.constant("x"), Gens.oneOf("y", "z")), 12));
    }

    @Test
    void frequencyFollowsTheWeightsAndShuffledGivesPermutations() {
        Gen<String> weighted = Gens.frequency(1, Gens.constant("rare"), 9, Gens.constant("common"));
        int rare = 0;
        for (int i = 0; i < DRAWS; i++) {
            rare += weighted.generate(Choices.random(Runner.caseSeed(13, i))).equals("rare") ? 1 : 0;
        }
        assertTrue(rare > DRAWS / 20 && rare < DRAWS / 5, "rare " + rare + " of " + DRAWS + " (expected ~1/10)");
        assertEquals("rare", simplest(weighted));
        assertEquals(Set.of("a"), sample(Gens.frequency(1, Gens.constant("a"), 0, Gens.constant("b"), 0, Gens.constant("c")), 14));
        Set<List<Integer>> perms = sample(Gens.shuffled(List.of(1, 2, 3)), 15);
        assertEquals(6, perms.size());
        assertEquals(List.of(1, 2, 3), simplest(Gens.shuffled(List.of(1, 2, 3))));
        assertEquals(0, simplest(Gens.intArrays(Gens.ints(0, 1), 0, 3)).length);
        assertEquals("weight 2: -1 (expected: >= 0)", assertThrows(IllegalArgumentException.class,
                () -> Gens.frequency(1, Gens.constant(1), -1, Gens.constant(2))).getMessage());
    }

    @Test
    void badArgumentsNameTheValueAndTheLimit() {
        assertEquals("range: [5, 1] (expected: lo <= hi)",
                assertThrows(IllegalArgumentException.class, () -> Gens.ints(5, 1)).getMessage());
        assertEquals("length: [3, 2] (expected: 0 <= min <= max)",
                assertThrows(IllegalArgumentException.class, () -> Gens.lists(Gens.booleans(), 3, 2)).getMessage());
        assertEquals("range: [NaN, 1.0] (expected: finite lo <= hi)",
                assertThrows(IllegalArgumentException.class, () -> Gens.finiteFloats(Float.NaN, 1f)).getMessage());
        assertEquals("values: 0 elements (expected: at least 1)",
                assertThrows(IllegalArgumentException.class, () -> Gens.elements(List.of())).getMessage());
        assertEquals("max: -1 (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> Choices.random(1).draw(-1)).getMessage());
    }
}
