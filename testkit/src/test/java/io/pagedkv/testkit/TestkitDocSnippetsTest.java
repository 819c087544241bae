package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The Java snippets of docs/testkit.md, compiled and run: each doc fence is quoted verbatim from the
 * code between its {@code // snippet:} markers ({@code DocSnippetsTest} in examples checks it).
 */
class TestkitDocSnippetsTest {

    // ---------------------------------------------------------------------------------------------
    // properties

    /** An int8 grid with a per-array scale, as Q8_0 stores one group. */
    static float[] roundTrip(float[] x) {
        float amax = 0f;
        for (float v : x) {
            amax = Math.max(amax, Math.abs(v));
        }
        float d = amax / 127f;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = d == 0f ? 0f : Math.round(x[i] / d) * d;
        }
        return y;
    }

    static void assertWithinBound(float[] x, float[] y) {
        float amax = 0f;
        for (float v : x) {
            amax = Math.max(amax, Math.abs(v));
        }
        double half = amax / 127.0 / 2;
        for (int i = 0; i < x.length; i++) {
            assertTrue(Math.abs((double) x[i] - y[i]) <= half * (1 + 1e-5) + 1e-30, i + ": " + x[i] + " -> " + y[i]);
        }
    }

    @Nested
    class Properties {
        // snippet:testkit-properties
        @Test
        void decodeOfEncodeStaysWithinHalfAStepOfTheInt8Grid() {
            Property.forAll(Gens.floatArrays(Gens.finiteFloats(-100f, 100f), 32, 32))
                    .check(values -> assertWithinBound(values, roundTrip(values)));
        }

        @Test
        void aRequestNeverHoldsMoreBlocksThanThePoolHas() {
            Property.forAll(Gens.ints(1, 1024), Gens.lists(Gens.ints(0, 64), 0, 50))
                    .tries(200)
                    .check((blocks, requests) -> {
                        int held = 0;
                        for (int want : requests) {
                            held = want <= blocks - held ? held + want : held; // all or nothing
                        }
                        assertTrue(held <= blocks, held + " > " + blocks);
                    });
        }
        // end-snippet
    }

    // ---------------------------------------------------------------------------------------------
    // a state machine

    /** A pool of 4 slots, 0 first, a freed slot handed out next (last in, first out): the system under test. */
    static final class SlotPool {
        private final ArrayDeque<Integer> free = new ArrayDeque<>(List.of(0, 1, 2, 3));

        int allocate() {
            Integer id = free.pollFirst();
            return id == null ? -1 : id;
        }

        void free(int id) {
            free.addFirst(id);
        }

        int freeSlots() {
            return free.size();
        }
    }

    /** What the slots should be: the ones lent out. */
    static final class Model {
        final Set<Integer> held = new HashSet<>();

        int free() {
            return 4 - held.size();
        }
    }

    record Allocate() implements Command<Model, SlotPool> {
        @Override
        public boolean precondition(Model m) {
            return m.free() > 0;
        }

        @Override
        public void run(Model m, SlotPool pool) {
            int id = pool.allocate();
            assertTrue(id >= 0 && !m.held.contains(id), "allocate() -> " + id);
            m.held.add(id);
        }
    }

    // snippet:testkit-state-machine
    record PoolMachine() implements StateMachine<Model, SlotPool> {
        public Model initialModel() { return new Model(); }
        public SlotPool newSystem() { return new SlotPool(); }
        public Gen<Command<Model, SlotPool>> commands(Model m) {
            Gen<Command<Model, SlotPool>> allocate = in -> new Allocate();   // fresh command per step
            return m.held.isEmpty() ? allocate
                    : Gens.choose(allocate, Gens.elements(List.copyOf(m.held)).map(Free::new));
        }
        public void invariants(Model m, SlotPool pool) { assertEquals(m.free(), pool.freeSlots()); }
    }

    record Free(int block) implements Command<Model, SlotPool> {
        public boolean precondition(Model m) { return m.held.contains(block); }
        public void run(Model m, SlotPool pool) { m.held.remove(block); pool.free(block); }
        public String toString() { return "free(" + block + ")"; }
    }

    @Test
    void poolConservesSlotsUnderAnyAllocateFreeSequence() {
        Stateful.of(new PoolMachine()).steps(50).tries(200).check();
    }
    // end-snippet

    // snippet:testkit-replay
    @Test
    void freeAfterAHotHandOutDoesNotLeak() {
        Stateful.replay(new PoolMachine(), new Allocate(), new Free(0), new Allocate(), new Free(0));
    }
    // end-snippet

    // ---------------------------------------------------------------------------------------------
    // parallel mode

    /** A linearizable counter. */
    static final class Counter {
        private final AtomicInteger value = new AtomicInteger();

        int incrementAndGet() {
            return value.incrementAndGet();
        }
    }

    record CounterMachine() implements StateMachine<int[], Counter> {
        @Override
        public int[] initialModel() {
            return new int[1];
        }

        @Override
        public Counter newSystem() {
            return new Counter();
        }

        @Override
        public Gen<Command<int[], Counter>> commands(int[] model) {
            return in -> new Parallel.Inc(); // the snippet's command
        }
    }

    @Nested
    class Parallel {
        // snippet:testkit-parallel
        record Inc() implements ParallelCommand<int[], Counter> {
            public Object onSystem(Counter c) { return c.incrementAndGet(); }
            public Object onModel(int[] m) { return ++m[0]; }
            public String toString() { return "inc()"; }
        }

        @Test
        void counterIsLinearizable() {
            ParallelStateful.of(new CounterMachine()).threads(3).branchSteps(3).prefixSteps(3).check();
        }
        // end-snippet
    }
}
