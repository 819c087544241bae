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
        assertEquals(Config.plan(100, 42L, null).tries(), first.size());
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

    @Test
    void aRandomSeedFailureReplaysFromThePrintedFlag() {
        String old = System.getProperty(Config.SEED_PROP);
        try {
            System.clearProperty(Config.SEED_PROP);
            Runnable property = () -> Property.forAll(LISTS).tries(200)
                    .check(xs -> {
                        if (xs.size() >= 3 && xs.get(2) > 10) {
                            throw new AssertionError(xs);
                        }
                    });
            PropertyFailure first = assertThrows(PropertyFailure.class, property::run);
            String flag = first.replayFlag();
            System.setProperty(Config.SEED_PROP, flag.substring(flag.indexOf('=') + 1));
            PropertyFailure replayed = assertThrows(PropertyFailure.class, property::run);
            assertEquals(first.seed(), replayed.seed());
            assertEquals(first.original(), replayed.original());
            assertEquals(first.shrunk(), replayed.shrunk());
        } finally {
            if (old == null) {
                System.clearProperty(Config.SEED_PROP);
            } else {
                System.setProperty(Config.SEED_PROP, old);
            }
        }
    }

    @Test
    void sameSeedGivesSameStateMachineFailure() {
        PropertyFailure a = assertThrows(PropertyFailure.class,
                () -> Stateful.of(new ToyPoolLeakShrinkTest.Machine(true)).steps(30).seed(11).check());
        PropertyFailure b = assertThrows(PropertyFailure.class,
                () -> Stateful.of(new ToyPoolLeakShrinkTest.Machine(true)).steps(30).seed(11).check());
        assertEquals(a.original(), b.original());
        assertEquals(a.shrunk(), b.shrunk());
        assertEquals(a.getMessage(), b.getMessage());
    }
}
