package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A planted off-by-one that needs a list of 7 or more elements shrinks to exactly 7 small values. */
class SortedInsertShrinkTest {

    /** Binary insertion sort with a planted bug: from 6 sorted elements on, the search stops one short. */
    static List<Integer> buggyInsertionSort(List<Integer> values) {
        List<Integer> sorted = new ArrayList<>();
        for (int x : values) {
            int lo = 0;
            int hi = sorted.size() >= 6 ? sorted.size() - 1 : sorted.size(); // the off-by-one
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (sorted.get(mid) <= x) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            sorted.add(lo, x);
        }
        return sorted;
    }

    static void assertSortedPermutation(List<Integer> input, List<Integer> output) {
        List<Integer> expected = new ArrayList<>(input);
        expected.sort(null);
        assertEquals(expected, output, "sorted " + input);
    }

    @Test
    void shortListsNeverExposeTheBug() {
        Property.forAll(Gens.lists(Gens.ints(-1000, 1000), 0, 6)).seed(1).tries(200)
                .check(xs -> assertSortedPermutation(xs, buggyInsertionSort(xs)));
    }

    @Test
    void failureShrinksToExactlySevenSmallValues() {
        for (long seed = 1; seed <= 10; seed++) {
            long s = seed;
            PropertyFailure failure = assertThrows(PropertyFailure.class, () ->
                    Property.forAll(Gens.lists(Gens.ints(0, 1000), 0, 20)).seed(s).tries(500)
                            .check(xs -> assertSortedPermutation(xs, buggyInsertionSort(xs))));
            assertEquals(List.of(0, 0, 0, 0, 0, 0, 1), failure.shrunk(), failure.getMessage());
            assertTrue(((List<?>) failure.original()).size() >= 7, "original " + failure.original());
        }
    }

    @Test
    void signedFailureAlsoShrinksToSixZerosAndAOne() {
        for (long seed = 1; seed <= 10; seed++) {
            long s = seed;
            PropertyFailure failure = assertThrows(PropertyFailure.class, () ->
                    Property.forAll(Gens.lists(Gens.ints(-1000, 1000), 0, 20)).seed(s).tries(500)
                            .check(xs -> assertSortedPermutation(xs, buggyInsertionSort(xs))));
            assertEquals(List.of(0, 0, 0, 0, 0, 0, 1), failure.shrunk(), failure.getMessage());
        }
    }
}
