package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The same seed gives the same inputs and the same shrunk result, run after run. */
class ReproducibilityTest {
    static final Gen<List<Integer>> LISTS = Gens.lists(Gens.ints(-50, 50), 0, 10);

    static List<List<Integer>> inputs(long seed) {
        List<List<Integer>> seen = new ArrayList<>();
        Property.forAll(LISTS).seed(seed).tries(100).check(seen::add);
        return seen;
    }

    static PropertyFailure failureOf(long seed) {
        return assertThrows(PropertyFailure.class, () -> Property.forAll(LISTS, Gens.longs(0, 1_000_000))
                .seed(seed).tries(200)
                .check((xs, n) -> {
                    if (xs.stream().mapToInt(Integer::intValue).sum() > 30 && n > 1000) {
                        throw new AssertionError("sum " + xs + " with " + n);
                    }
                }));
    }

    @Test
    void sameSeedGivesSameInputs() {
        List<List<Integer>> first = inputs(42);
        assertEquals(100, first.size());
        assertEquals(first, inputs(42));
        assertNotEquals(first, inputs(43));
    }

    @Test
    void sameSeedGivesSameShrunkResult() {
        PropertyFailure a = failureOf(7);
        PropertyFailure b = failureOf(7);
        assertEquals(7, a.seed());
        assertEquals(a.original(), b.original());
        assertEquals(a.shrunk(), b.shrunk());
        assertEquals(a.getMessage(), b.getMessage());
        assertEquals(List.of(List.of(31), 1001L), a.shrunk(), a.getMessage());
    }
}
