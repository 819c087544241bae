package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** A toy pool that leaks one slot after free/allocate/free is caught and shrunk to those 3 steps. */
class ToyPoolLeakShrinkTest {
    static final int CAPACITY = 4;
    static final int NONE = -1;

    /** A slot pool with a one-entry "hot" cache; every slot starts lent out. */
    static final class ToyPool {
        private final ArrayDeque<Integer> stack = new ArrayDeque<>();
        private final boolean leaky;
        private int hot = NONE;
        private boolean hotHandedOut;

        ToyPool(boolean leaky) {
            this.leaky = leaky;
        }

        int allocate() {
            if (hot != NONE) {
                int slot = hot;
                hot = NONE;
                hotHandedOut = true;
                return slot;
            }
            return stack.isEmpty() ? NONE : stack.pop();
        }

        void free(int slot) {
            if (hot != NONE) {
                stack.push(hot);
            }
            if (leaky && hotHandedOut) {
                hotHandedOut = false; // planted bug: a slot freed right after a hot hand-out is dropped
                return;
            }
            hotHandedOut = false;
            hot = slot;
        }

        int available() {
            return stack.size() + (hot == NONE ? 0 : 1);
        }
    }

    /** The model: which slots the client holds. */
    static final class Held {
        final TreeSet<Integer> slots = new TreeSet<>(List.of(0, 1, 2, 3));
    }

    static final class Allocate implements Command<Held, ToyPool> {
        int got = NONE;

        @Override
        public boolean precondition(Held model) {
            return model.slots.size() < CAPACITY;
        }

        @Override
        public void run(Held model, ToyPool pool) {
            got = pool.allocate();
            assertNotEquals(NONE, got, "allocate() with " + (CAPACITY - model.slots.size()) + " free");
            assertTrue(model.slots.add(got), "allocate() returned held slot " + got);
        }

        @Override
        public String toString() {
            return "allocate() -> " + got;
        }
    }

    record Free(int slot) implements Command<Held, ToyPool> {
        @Override
        public boolean precondition(Held model) {
            return model.slots.contains(slot);
        }

        @Override
        public void run(Held model, ToyPool pool) {
            model.slots.remove(slot);
            pool.free(slot);
        }

        @Override
        public String toString() {
            return "free(" + slot + ")";
        }
    }

    /** A read-only query: noise that shrinking must remove. */
    static final class Count implements Command<Held, ToyPool> {
        int seen = -1;

        @Override
        public void run(Held model, ToyPool pool) {
            seen = pool.available();
            assertEquals(CAPACITY - model.slots.size(), seen, "available()");
        }

        @Override
        public String toString() {
            return "available() -> " + seen;
        }
    }

    record Machine(boolean leaky) implements StateMachine<Held, ToyPool> {
        @Override
        public Held initialModel() {
            return new Held();
        }

        @Override
        public ToyPool newSystem() {
            return new ToyPool(leaky);
        }

        @Override
        public Gen<Command<Held, ToyPool>> commands(Held model) {
            Gen<Command<Held, ToyPool>> allocate = in -> new Allocate();
            Gen<Command<Held, ToyPool>> count = in -> new Count();
            if (model.slots.isEmpty()) {
                return Gens.choose(allocate, count);
            }
            return Gens.choose(allocate, Gens.elements(List.copyOf(model.slots)).map(Free::new), count);
        }

        @Override
        public void invariants(Held model, ToyPool pool) {
            assertEquals(CAPACITY - model.slots.size(), pool.available(), "free slots");
        }
    }

    @Test
    void correctPoolKeepsEverySlot() {
        Stateful.of(new Machine(false)).steps(30).tries(200).seed(3).check();
    }

    @Test
    void leakShrinksToFreeAllocateFree() {
        int longestOriginal = 0;
        for (long seed = 1; seed <= 5; seed++) {
            long s = seed;
            PropertyFailure failure = assertThrows(PropertyFailure.class,
                    () -> Stateful.of(new Machine(true)).steps(30).tries(200).seed(s).check());
            assertEquals(List.of("1. free(0)", "2. allocate() -> 0", "3. free(0)"), failure.shrunk(),
                    failure.getMessage());
            assertTrue(failure.getMessage().contains("3. free(0)   <-- fails: "), failure.getMessage());
            longestOriginal = Math.max(longestOriginal, ((List<?>) failure.original()).size());
        }
        assertTrue(longestOriginal > 3, "some original run was longer than 3 steps: " + longestOriginal);
    }

    @Test
    void theShrunkStepsPastedAsARegressionTestFailOnlyOnTheLeakyPool() {
        Stateful.replay(new Machine(false), new Free(0), new Allocate(), new Free(0));
        AssertionError e = assertThrows(AssertionError.class,
                () -> Stateful.replay(new Machine(true), new Free(0), new Allocate(), new Free(0)));
        assertTrue(e.getMessage().startsWith("step 3 free(0) fails: "), e.getMessage());
        assertEquals("step 1 allocate() -> -1: precondition fails (expected: holds)", assertThrows(
                IllegalArgumentException.class, () -> Stateful.replay(new Machine(false), new Allocate())).getMessage());
    }
}
