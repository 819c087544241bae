package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The first-fit arena against a model that keeps the allocated ranges and finds the first gap by scanning. */
class FirstFitArenaProperties {

    private static final long CAPACITY = 256;

    /** Allocated ranges, start -> size. */
    static final class Model {
        final TreeMap<Long, Long> used = new TreeMap<>();

        long firstFit(long size) {
            long cursor = 0;
            for (var e : used.entrySet()) {
                if (e.getKey() - cursor >= size) {
                    return cursor;
                }
                cursor = e.getKey() + e.getValue();
            }
            return CAPACITY - cursor >= size ? cursor : FirstFitArena.NO_RANGE;
        }

        long usedBytes() {
            long sum = 0;
            for (long s : used.values()) {
                sum += s;
            }
            return sum;
        }

        int gaps() {
            int gaps = 0;
            long cursor = 0;
            for (var e : used.entrySet()) {
                if (e.getKey() > cursor) {
                    gaps++;
                }
                cursor = e.getKey() + e.getValue();
            }
            return cursor < CAPACITY ? gaps + 1 : gaps;
        }
    }

    record Allocate(long size) implements Command<Model, FirstFitArena> {
        @Override
        public boolean precondition(Model m) {
            return true;
        }

        @Override
        public void run(Model m, FirstFitArena arena) {
            long expected = m.firstFit(size);
            assertEquals(expected, arena.allocate(size), "allocate(" + size + ")");
            if (expected != FirstFitArena.NO_RANGE) {
                m.used.put(expected, size);
            }
        }

        @Override
        public String toString() {
            return "allocate(" + size + ")";
        }
    }

    record Free(long offset) implements Command<Model, FirstFitArena> {
        @Override
        public boolean precondition(Model m) {
            return m.used.containsKey(offset);
        }

        @Override
        public void run(Model m, FirstFitArena arena) {
            arena.free(offset, m.used.remove(offset));
        }

        @Override
        public String toString() {
            return "free(" + offset + ")";
        }
    }

    static final class Machine implements StateMachine<Model, FirstFitArena> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public FirstFitArena newSystem() {
            return new FirstFitArena(CAPACITY);
        }

        @Override
        public Gen<Command<Model, FirstFitArena>> commands(Model m) {
            Gen<Command<Model, FirstFitArena>> allocate = Gens.longs(1, 96).map(Allocate::new);
            if (m.used.isEmpty()) {
                return allocate;
            }
            List<Long> offsets = new ArrayList<>(m.used.keySet());
            Gen<Command<Model, FirstFitArena>> free = Gens.elements(offsets).map(Free::new);
            return Gens.choose(allocate, free);
        }

        @Override
        public void invariants(Model m, FirstFitArena arena) {
            assertEquals(CAPACITY - m.usedBytes(), arena.freeBytes(), "free bytes");
            assertEquals(m.gaps(), arena.holes(), "adjacent holes are always merged");
        }

        @Override
        public void close(FirstFitArena arena) {
        }
    }

    @Test
    void arenaAllocatesTheFirstGapAndConservesBytesUnderAnyAllocateFreeSequence() {
        Stateful.of(new Machine()).steps(60).tries(100).check();
    }
}
