package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Shrinking finds the exact boundary of a failure, through every combinator, with no per-type code. */
class ShrinkerTest {

    static Object shrunk(Runnable property) {
        return assertThrows(PropertyFailure.class, property::run).shrunk();
    }

    @Test
    void intsShrinkToTheExactBoundary() {
        assertEquals(1234, shrunk(() -> Property.forAll(Gens.ints(-1_000_000, 1_000_000)).seed(1)
                .check(x -> assertBelow(x, 1234))));
        assertEquals(-777, shrunk(() -> Property.forAll(Gens.ints(-1_000_000, 1_000_000)).seed(2)
                .check(x -> { if (x <= -777) throw new AssertionError(x); })));
        assertEquals(1L << 40, shrunk(() -> Property.forAll(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE)).seed(3)
                .check(x -> { if (x >= 1L << 40) throw new AssertionError(x); })));
    }

    @Test
    void floatsShrinkToTheFirstFloatPastTheBoundary() {
        assertEquals(Math.nextUp(1.5f), shrunk(() -> Property.forAll(Gens.finiteFloats(0f, 1000f)).seed(4)
                .check(f -> { if (f > 1.5f) throw new AssertionError(f); })));
        Object nan = shrunk(() -> Property.forAll(Gens.floats()).seed(5)
                .check(f -> { if (Float.isNaN(f)) throw new AssertionError(f); }));
        assertEquals(0x7f80_0001, Float.floatToRawIntBits((Float) nan), "smallest positive NaN payload");
    }

    @Test
    void listsShrinkToTheFewestSimplestElements() {
        assertEquals(List.of(100), shrunk(() -> Property.forAll(Gens.lists(Gens.ints(0, 100), 0, 50)).seed(6)
                .check(xs -> assertBelow(xs.stream().mapToInt(Integer::intValue).sum(), 100))));
        assertEquals(List.of(0, 1), shrunk(() -> Property.forAll(Gens.lists(Gens.ints(0, 100), 0, 50)).seed(7)
                .check(xs -> { if (xs.size() >= 2 && xs.get(0) < xs.get(1)) throw new AssertionError(xs); })));
    }

    @Test
    void aLargeFixedLengthArrayShrinksToOneBoundaryElementAmongZeros() {
        float[] a = (float[]) shrunk(() -> Property.forAll(Gens.floatArrays(Gens.finiteFloats(-1000f, 1000f), 256, 256))
                .seed(14).check(xs -> {
                    for (float x : xs) {
                        if (x > 500f) {
                            throw new AssertionError(x);
                        }
                    }
                }));
        assertEquals(256, a.length);
        int nonZero = 0;
        for (float x : a) {
            if (x != 0f) {
                nonZero++;
                assertEquals(Math.nextUp(500f), x);
            }
        }
        assertEquals(1, nonZero);
    }

    @Test
    void listElementsShrinkIntoSortedOrder() {
        assertEquals(List.of(3, 7), shrunk(() -> Property.forAll(Gens.lists(Gens.ints(0, 100), 0, 30)).seed(13)
                .check(xs -> { if (xs.contains(7) && xs.contains(3)) throw new AssertionError(xs); })));
    }

    @Test
    void mappedFilteredFlatMappedAndZippedValuesShrink() {
        record Pair(int a, int b) {
        }
        assertEquals(new Pair(0, 10), shrunk(() -> Property.forAll(Gens.zip(Gens.ints(0, 99), Gens.ints(0, 99), Pair::new))
                .seed(8).check(p -> assertBelow(p.a() + p.b(), 10))));
        assertEquals(100, shrunk(() -> Property.forAll(Gens.ints(0, 1000).filter(x -> x % 2 == 0)).seed(9)
                .check(x -> assertBelow(x, 100))));
        assertEquals(List.of(0, 0, 0, 0, 0), shrunk(() -> Property.forAll(
                Gens.ints(1, 20).flatMap(n -> Gens.lists(Gens.ints(0, 9), n, n))).seed(10)
                .check(xs -> assertBelow(xs.size(), 5))));
        assertEquals("long", shrunk(() -> Property.forAll(Gens.oneOf("a", "bb", "long", "longer").map(String::valueOf))
                .seed(11).check(s -> assertBelow(s.length(), 4))));
    }

    @Test
    void severalArgumentsShrinkTogether() {
        assertEquals(List.of(0, true, List.of(3)), shrunk(() -> Property.forAll(
                        Gens.ints(0, 50), Gens.booleans(), Gens.lists(Gens.ints(0, 9), 0, 9)).seed(12)
                .check((a, b, c) -> { if (b && c.contains(3)) throw new AssertionError(a + " " + c); })));
    }

    @Test
    void shortlexOrderPrefersShorterThenLexicographicallySmaller() {
        assertEquals(true, Shrinker.shortlexLess(new long[] {9}, new long[] {0, 0}));
        assertEquals(true, Shrinker.shortlexLess(new long[] {1, 0}, new long[] {1, 1}));
        assertEquals(false, Shrinker.shortlexLess(new long[] {1, 1}, new long[] {1, 1}));
    }

    static void assertBelow(long value, long limit) {
        if (value >= limit) {
            throw new AssertionError(value + " >= " + limit);
        }
    }
}
