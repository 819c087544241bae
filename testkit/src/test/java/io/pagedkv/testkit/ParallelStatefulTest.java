package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.Exchanger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The parallel mode passes a linearizable counter and catches two broken ones, shrunk to one step per thread. */
class ParallelStatefulTest {

    /** A counter: increment returns the new count, get returns the count. */
    interface Counter {
        int inc() throws Exception;

        int get();
    }

    /** Correct: one atomic. */
    static class AtomicCounter implements Counter {
        private final AtomicInteger value = new AtomicInteger();

        @Override
        public int inc() {
            return value.incrementAndGet();
        }

        @Override
        public int get() {
            return value.get();
        }
    }

    /** Broken: a striped counter whose increment returns its own thread's stripe, not the total. */
    static final class StripedCounter implements Counter {
        private final ThreadLocal<int[]> stripe = ThreadLocal.withInitial(() -> new int[1]);
        private final AtomicInteger total = new AtomicInteger();

        @Override
        public int inc() {
            total.incrementAndGet();
            return ++stripe.get()[0];
        }

        @Override
        public int get() {
            return total.get();
        }
    }

    /** Broken: read-modify-write without atomicity; a rendezvous makes two concurrent increments lose one. */
    static final class RacyCounter implements Counter {
        private final Exchanger<Object> rendezvous = new Exchanger<>();
        private volatile int value;

        @Override
        public int inc() throws InterruptedException {
            int read = value;
            try {
                rendezvous.exchange(null, 500, TimeUnit.MILLISECONDS); // both threads read before either writes
            } catch (TimeoutException alone) {
                // no concurrent increment: carry on
            }
            value = read + 1;
            return read + 1;
        }

        @Override
        public int get() {
            return value;
        }
    }

    record Inc() implements ParallelCommand<int[], Counter> {
        @Override
        public Object onSystem(Counter sut) throws Exception {
            return sut.inc();
        }

        @Override
        public Object onModel(int[] model) {
            return ++model[0];
        }

        @Override
        public String toString() {
            return "inc()";
        }
    }

    record Get() implements ParallelCommand<int[], Counter> {
        @Override
        public Object onSystem(Counter sut) {
            return sut.get();
        }

        @Override
        public Object onModel(int[] model) {
            return model[0];
        }

        @Override
        public String toString() {
            return "get()";
        }
    }

    record Machine(java.util.function.Supplier<Counter> factory, boolean incOnly) implements StateMachine<int[], Counter> {
        @Override
        public int[] initialModel() {
            return new int[1];
        }

        @Override
        public Counter newSystem() {
            return factory.get();
        }

        @Override
        public Gen<Command<int[], Counter>> commands(int[] model) {
            return incOnly ? Gens.constant(new Inc()) : Gens.oneOf(new Inc(), new Get());
        }

        @Override
        public void invariants(int[] model, Counter sut) {
            assertEquals(model[0], sut.get(), "count");
        }
    }

    @Test
    void atomicCounterIsLinearizableOnThreeThreads() {
        ParallelStateful.of(new Machine(AtomicCounter::new, false))
                .threads(3).branchSteps(3).prefixSteps(3).repeats(3).tries(30).seed(1).check();
    }

    @Test
    void stripedCounterShrinksToOneIncrementPerThread() {
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> ParallelStateful.of(new Machine(StripedCounter::new, false))
                .threads(2).branchSteps(3).prefixSteps(0).repeats(1).tries(50).seed(2).check());
        assertEquals(List.of(List.of(), List.of("1. inc() -> 1"), List.of("1. inc() -> 1")), f.shrunk(), f.getMessage());
        assertTrue(f.getMessage().contains("not linearizable"), f.getMessage());
        assertTrue(f.getMessage().contains("  branch 2 (thread 2):\n    1. inc() -> 1\n"), f.getMessage());
    }

    @Test
    void racyCounterLosesAnUpdateAndIsCaught() {
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> ParallelStateful.of(new Machine(RacyCounter::new, true))
                .threads(2).branchSteps(1).prefixSteps(0).repeats(1).tries(50).seed(3).check());
        assertEquals(List.of(List.of(), List.of("1. inc() -> 1"), List.of("1. inc() -> 1")), f.shrunk(), f.getMessage());
    }

    @Test
    void aSequentialBugShrinksToItsOneCommand() {
        PropertyFailure f = assertThrows(PropertyFailure.class, () -> ParallelStateful.of(new Machine(() -> new AtomicCounter() {
            @Override
            public int get() {
                return super.get() + 1;
            }
        }, false)).prefixSteps(5).repeats(1).tries(50).seed(4).check());
        @SuppressWarnings("unchecked")
        List<List<String>> shrunk = (List<List<String>>) f.shrunk();
        assertEquals(List.of("1. get() -> 1"), shrunk.stream().flatMap(List::stream).toList(), f.getMessage());
    }

    @Test
    void nonParallelCommandsAndBadSettingsAreRejected() {
        assertEquals("threads: 5 (expected: 2..4)", assertThrows(IllegalArgumentException.class,
                () -> ParallelStateful.of(new Machine(AtomicCounter::new, true)).threads(5)).getMessage());
        assertEquals("branchSteps: 7 (expected: 1..6)", assertThrows(IllegalArgumentException.class,
                () -> ParallelStateful.of(new Machine(AtomicCounter::new, true)).branchSteps(7)).getMessage());
        StateMachine<int[], Counter> sequentialOnly = new StateMachine<>() {
            @Override
            public int[] initialModel() {
                return new int[1];
            }

            @Override
            public Counter newSystem() {
                return new AtomicCounter();
            }

            @Override
            public Gen<Command<int[], Counter>> commands(int[] model) {
                return Gens.constant((m, s) -> s.inc());
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParallelStateful.of(sequentialOnly).seed(5).tries(5).check());
        assertTrue(e.getCause().getMessage().endsWith("(expected: a ParallelCommand)"), e.getCause().getMessage());
    }
}
