package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The state-machine runner: preconditions, invariants, close, step bounds and the report. */
class StatefulTest {

    /** A counter model and system; "dec" needs a positive count. */
    static final class Counter {
        int value;
        int closed;
    }

    record Inc() implements Command<int[], Counter> {
        @Override
        public void run(int[] model, Counter sut) {
            model[0]++;
            sut.value++;
        }

        @Override
        public String toString() {
            return "inc()";
        }
    }

    record Dec() implements Command<int[], Counter> {
        @Override
        public boolean precondition(int[] model) {
            return model[0] > 0;
        }

        @Override
        public void run(int[] model, Counter sut) {
            assertTrue(model[0] > 0, "precondition violated: dec at 0");
            model[0]--;
            sut.value--;
        }

        @Override
        public String toString() {
            return "dec()";
        }
    }

    static class Machine implements StateMachine<int[], Counter> {
        final List<Counter> systems = new ArrayList<>();
        final List<Integer> lengths = new ArrayList<>();
        int invariantChecks;
        int limit = Integer.MAX_VALUE;

        @Override
        public int[] initialModel() {
            return new int[1];
        }

        @Override
        public Counter newSystem() {
            Counter c = new Counter();
            systems.add(c);
            return c;
        }

        @Override
        public Gen<Command<int[], Counter>> commands(int[] model) {
            return Gens.oneOf(new Inc(), new Dec());
        }

        @Override
        public void invariants(int[] model, Counter sut) {
            invariantChecks++;
            assertEquals(model[0], sut.value);
            assertTrue(sut.value < limit, "value " + sut.value + " (expected: < " + limit + ")");
        }

        @Override
        public void close(Counter sut) throws Exception {
            sut.closed++;
            lengths.add(sut.value);
        }
    }

    @Test
    void preconditionsHoldInvariantsRunAfterEveryStepAndEverySystemIsClosed() {
        Machine m = new Machine();
        Stateful.of(m).steps(12).tries(40).seed(8).check();
        assertEquals(Config.plan(40, 8L, null).tries(), m.systems.size(), "one system per run (scaled by pagedkv.tries)");
        assertTrue(m.systems.stream().allMatch(c -> c.closed == 1), "each system closed once");
        assertTrue(m.invariantChecks > 40, "invariants checked per step, not just per run: " + m.invariantChecks);
        assertTrue(m.lengths.stream().allMatch(v -> v >= 0 && v <= 12), "at most 12 steps: " + m.lengths);
    }

    @Test
    void aBrokenInvariantShrinksToTheShortestNumberedSteps() {
        Machine m = new Machine();
        m.limit = 3;
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> Stateful.of(m).steps(30).seed(2).check());
        assertEquals(List.of("1. inc()", "2. inc()", "3. inc()"), f.shrunk(), f.getMessage());
        assertTrue(f.getMessage().startsWith("State machine failed after "), f.getMessage());
        assertTrue(f.getMessage().contains("  3 steps\n  1. inc()\n  2. inc()\n  3. inc()   <-- fails: "), f.getMessage());
        assertTrue(m.systems.stream().allMatch(c -> c.closed == 1), "closed on failure and while shrinking");
    }

    @Test
    void aFailureInCloseIsReported() {
        StateMachine<int[], Counter> m = new Machine() {
            @Override
            public void close(Counter sut) throws Exception {
                throw new java.io.IOException("close failed");
            }
        };
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> Stateful.of(m).seed(1).tries(5).check());
        assertEquals(List.of(), f.shrunk(), f.getMessage());
        assertTrue(f.getMessage().contains("0 steps (fails in the initial state or in close())"), f.getMessage());
    }

    @Test
    void badSettingsNameTheValue() {
        assertEquals("steps: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> Stateful.of(new Machine()).steps(0)).getMessage());
    }
}
