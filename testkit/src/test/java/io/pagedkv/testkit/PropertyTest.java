package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Running properties: reports, discards, settings from system properties, the time cap. */
class PropertyTest {

    @Test
    void failureMessageShowsShrunkAndOriginalInputSeedAndReplayFlag() {
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> Property.forAll(Gens.ints(0, 10_000), Gens.floats())
                .seed(99).check((n, x) -> {
                    if (n >= 500) {
                        throw new IllegalStateException("n=" + n);
                    }
                }));
        String m = f.getMessage();
        assertTrue(m.startsWith("Property failed after "), m);
        assertTrue(m.contains("(seed 99)"), m);
        assertTrue(m.contains("Shrunk (") && m.contains("  #1 = 500\n  #2 = 0.0f\n"), m);
        assertTrue(m.contains("Original:\n  #1 = " + ((List<?>) f.original()).get(0) + "\n"), m);
        assertTrue(m.contains("java.lang.IllegalStateException: n=500"), m);
        assertTrue(m.endsWith("Replay: -Dpagedkv.seed=99"), m);
        assertEquals("-Dpagedkv.seed=99", f.replayFlag());
        assertInstanceOf(IllegalStateException.class, f.getCause());
        assertEquals("n=500", f.getCause().getMessage());
    }

    @Test
    void shrinkingKeepsTheKindOfFailure() {
        // Small n fail with one exception type, large n with another: the shrunk case keeps the first type seen.
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> Property.forAll(Gens.ints(0, 1000))
                .seed(5).check(n -> {
                    if (n >= 900) {
                        throw new IllegalStateException("big " + n);
                    }
                    if (n >= 10) {
                        throw new AssertionError("medium " + n);
                    }
                }));
        Class<?> kind = f.getCause().getClass();
        int shrunk = (Integer) f.shrunk();
        assertEquals(kind == IllegalStateException.class ? 900 : 10, shrunk, f.getMessage());
    }

    @Test
    void assumeDiscardsCasesWithoutFailing() {
        AtomicInteger checked = new AtomicInteger();
        Property.forAll(Gens.ints(0, 100)).seed(1).tries(50).check(n -> {
            Property.assume(n % 2 == 0);
            assertEquals(0, n % 2);
            checked.incrementAndGet();
        });
        assertEquals(Config.plan(50, 1L, null).tries(), checked.get());
    }

    @Test
    void aFilterThatRejectsEverythingFailsWithTheDiscardCount() {
        AssertionError e = assertThrows(AssertionError.class, () -> Property.forAll(Gens.ints(0, 10).filter(n -> n > 10))
                .seed(1).tries(3).check(n -> { }));
        int limit = Math.max(100, Config.plan(3, 1L, null).tries() * 10);
        assertTrue(e.getMessage().contains((limit + 1) + " cases discarded for 0 passed (expected: at most " + limit), e.getMessage());
    }

    @Test
    void timeCapStopsTriesEarlyAndPasses() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll(Gens.ints(0, 10)).seed(1).tries(1_000_000).maxSeconds(0.2).check(n -> {
            runs.incrementAndGet();
            Thread.sleep(5);
        });
        assertTrue(runs.get() > 0 && runs.get() < 1_000_000, "runs " + runs.get());
        assertEquals("maxSeconds: 0.0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> Property.forAll(Gens.booleans()).maxSeconds(0)).getMessage());
    }

    @Test
    void triesAndSeedComeFromSystemPropertiesWhenNotSetInCode() {
        String oldTries = System.getProperty(Config.TRIES_PROP);
        String oldSeed = System.getProperty(Config.SEED_PROP);
        try {
            System.setProperty(Config.TRIES_PROP, "7");
            System.setProperty(Config.SEED_PROP, "12345");
            List<Integer> a = new ArrayList<>();
            Property.forAll(Gens.ints(0, 1 << 20)).check(a::add);
            assertEquals(7, a.size());
            List<Integer> b = new ArrayList<>();
            Property.forAll(Gens.ints(0, 1 << 20)).seed(12345).tries(7).check(b::add);
            assertEquals(a, b, "the property seed is the seed in code");
            List<Integer> c = new ArrayList<>();
            Property.forAll(Gens.ints(0, 1 << 20)).seed(1).tries(7).check(c::add);
            assertTrue(!a.equals(c), "a seed in code wins over the system property");

            System.setProperty(Config.TRIES_PROP, "300");
            List<Integer> scaled = new ArrayList<>();
            Property.forAll(Gens.ints(0, 3)).tries(10).check(scaled::add);
            assertEquals(30, scaled.size(), "explicit tries scale up with pagedkv.tries");

            System.setProperty(Config.TRIES_PROP, "zero");
            assertEquals("pagedkv.tries: zero (expected: an int >= 1)", assertThrows(IllegalArgumentException.class,
                    () -> Property.forAll(Gens.booleans()).check(x -> { })).getMessage());
        } finally {
            restore(Config.TRIES_PROP, oldTries);
            restore(Config.SEED_PROP, oldSeed);
        }
    }

    @Test
    void threeArgumentPropertiesRunAndRejectBadTries() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll(Gens.ints(0, 1), Gens.booleans(), Gens.constant("x")).seed(3).tries(20)
                .check((a, b, c) -> runs.incrementAndGet());
        assertEquals(Config.plan(20, 3L, null).tries(), runs.get());
        assertEquals("b: null (expected: a generator)",
                assertThrows(IllegalArgumentException.class, () -> Property.forAll(Gens.booleans(), null)).getMessage());
        assertEquals("tries: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> Property.forAll(Gens.booleans()).tries(0)).getMessage());
    }

    @Test
    void aThrowingGeneratorIsReportedWithTheSeed() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Property.forAll(
                Gens.ints(0, 3).map(n -> 10 / n)).seed(4).tries(100).check(n -> { }));
        assertTrue(e.getMessage().contains("-Dpagedkv.seed=4"), e.getMessage());
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    @Test
    void aFailureThatDoesNotRepeatIsFlaggedFlaky() {
        AtomicInteger calls = new AtomicInteger();
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> Property.forAll(Gens.ints(0, 9)).seed(6)
                .check(n -> {
                    if (calls.incrementAndGet() == 1) {
                        throw new AssertionError("only the first time");
                    }
                }));
        assertTrue(f.getMessage().contains("\nFLAKY: the shrunk case passed when run again"), f.getMessage());
        PropertyFailure stable = assertThrows(PropertyFailure.class, () -> Property.forAll(Gens.ints(0, 9)).seed(6)
                .check(n -> assertEquals(-1, n)));
        assertTrue(!stable.getMessage().contains("FLAKY"), stable.getMessage());
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
