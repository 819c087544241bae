package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The bare pool against a model (reference count per block), with faults (Must show 2 of issue 24):
 * allocations of one or many blocks, some with the next allocation call or chunk commit armed to
 * fail, retain, retain-all, release, free, and misuse. After every step the pool's counts equal the
 * model's, {@code free + used == total}, and every chunk that holds an allocated block is committed; a
 * failed allocation changed nothing but (maybe) committed memory. Two blocks per chunk, so chunk
 * commits happen all along a run.
 */
class BlockPoolStateMachineTest {

    static final int BLOCKS = 9;
    static final int PER_CHUNK = 2;

    static final AtomicLong FAILED_BY_ALLOCATION_FAULT = new AtomicLong();
    static final AtomicLong FAILED_BY_CHUNK_FAULT = new AtomicLong();

    static final class Model {
        final int[] refCounts = new int[BLOCKS];

        int free() {
            int n = 0;
            for (int rc : refCounts) {
                if (rc == 0) {
                    n++;
                }
            }
            return n;
        }

        List<Integer> held() {
            List<Integer> ids = new ArrayList<>();
            for (int id = 0; id < BLOCKS; id++) {
                if (refCounts[id] > 0) {
                    ids.add(id);
                }
            }
            return ids;
        }
    }

    static final class Sut {
        final NthCallFaults faults = new NthCallFaults();
        final BlockPool pool = new BlockPool(BLOCKS, 32, PER_CHUNK, faults);
    }

    static int[] state(BlockPool pool) {
        int[] rc = new int[BLOCKS];
        for (int id = 0; id < BLOCKS; id++) {
            rc[id] = pool.refCount(id);
        }
        return rc;
    }

    /** Allocates {@code n} blocks (1: the single-block call); {@code fault}: 0 none, 1 allocation, 2 chunk commit. */
    record Allocate(int n, int fault) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            int[] before = state(sut.pool);
            long injected = sut.faults.injectedFailures();
            if (fault == 1) {
                sut.faults.failNthAllocation(1);
            } else if (fault == 2) {
                sut.faults.failNthChunkCommit(1);
            }
            int[] out = new int[n];
            Arrays.fill(out, -5);
            boolean ok;
            if (n == 1) {
                int id = sut.pool.allocate();
                ok = id != BlockPool.NO_BLOCK;
                if (ok) {
                    out[0] = id;
                }
            } else {
                ok = sut.pool.allocate(n, out);
            }
            sut.faults.failNthAllocation(0).failNthChunkCommit(0);
            boolean fired = sut.faults.injectedFailures() > injected;
            assertEquals(n <= model.free() && !fired, ok, "allocate(" + n + ") with " + model.free() + " free, fault fired "
                    + fired);
            if (!ok) {
                if (fired) {
                    (fault == 1 ? FAILED_BY_ALLOCATION_FAULT : FAILED_BY_CHUNK_FAULT).incrementAndGet();
                }
                assertArrayEquals(before, state(sut.pool), "a failed allocation changes no reference count");
                int[] untouched = new int[n];
                Arrays.fill(untouched, -5);
                assertArrayEquals(untouched, out, "nor out");
                return;
            }
            for (int id : out) {
                assertEquals(0, model.refCounts[id], "block " + id + " was free");
                model.refCounts[id] = 1;
            }
        }

        @Override
        public String toString() {
            return "allocate(" + n + (fault == 1 ? ", allocation fails" : fault == 2 ? ", chunk commit fails" : "") + ")";
        }
    }

    record Retain(int id) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (model.refCounts[id] == 0) {
                assertThrows(IllegalStateException.class, () -> sut.pool.retain(id));
                return;
            }
            sut.pool.retain(id);
            model.refCounts[id]++;
        }

        @Override
        public String toString() {
            return "retain(" + id + ")";
        }
    }

    record RetainAll(int[] ids) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            boolean anyFree = false;
            for (int id : ids) {
                anyFree |= model.refCounts[id] == 0;
            }
            if (anyFree) {
                int[] before = state(sut.pool);
                assertThrows(IllegalStateException.class, () -> sut.pool.retainAll(ids, ids.length));
                assertArrayEquals(before, state(sut.pool), "all or none");
                return;
            }
            sut.pool.retainAll(ids, ids.length);
            for (int id : ids) {
                model.refCounts[id]++;
            }
        }

        @Override
        public String toString() {
            return "retainAll(" + Arrays.toString(ids) + ")";
        }
    }

    record Release(int id) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (model.refCounts[id] == 0) {
                assertThrows(IllegalStateException.class, () -> sut.pool.release(id), "double release");
                return;
            }
            assertEquals(model.refCounts[id] == 1, sut.pool.release(id));
            model.refCounts[id]--;
        }

        @Override
        public String toString() {
            return "release(" + id + ")";
        }
    }

    record Free(int id) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (model.refCounts[id] != 1) {
                assertThrows(IllegalStateException.class, () -> sut.pool.free(id));
                return;
            }
            sut.pool.free(id);
            model.refCounts[id] = 0;
        }

        @Override
        public String toString() {
            return "free(" + id + ")";
        }
    }

    static final class Machine implements StateMachine<Model, Sut> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sut newSystem() {
            return new Sut();
        }

        @Override
        public Gen<Command<Model, Sut>> commands(Model model) {
            Gen<Integer> fault = Gens.frequency(3, Gens.constant(0), 2, Gens.ints(1, 2));
            Gen<Command<Model, Sut>> allocate = Gens.zip(Gens.ints(1, 4), fault, Allocate::new);
            Gen<Integer> id = model.held().isEmpty() ? Gens.ints(0, BLOCKS - 1)
                    : Gens.frequency(4, Gens.elements(model.held()), 1, Gens.ints(0, BLOCKS - 1));
            Gen<Command<Model, Sut>> retain = id.map(Retain::new);
            Gen<Command<Model, Sut>> retainAll = Gens.intArrays(id, 1, 3).map(RetainAll::new);
            Gen<Command<Model, Sut>> release = id.map(Release::new);
            Gen<Command<Model, Sut>> free = id.map(Free::new);
            return Gens.choose(allocate, allocate, allocate, retain, retainAll, release, release, free);
        }

        @Override
        public void invariants(Model model, Sut sut) {
            BlockPool pool = sut.pool;
            int shared = 0;
            for (int id = 0; id < BLOCKS; id++) {
                assertEquals(model.refCounts[id], pool.refCount(id), "refCount of block " + id);
                if (model.refCounts[id] > 1) {
                    shared++;
                }
                if (model.refCounts[id] > 0) {
                    assertNotEquals(null, pool.segment(id), "an allocated block's chunk is committed");
                    assertTrue(pool.block(id).isReadOnly());
                }
            }
            assertEquals(model.free(), pool.freeBlocks(), "free");
            assertEquals(BLOCKS, pool.freeBlocks() + pool.usedBlocks(), "conservation");
            assertEquals(shared, pool.sharedBlocks(), "shared");
            assertTrue(pool.committedChunks() <= (BLOCKS + PER_CHUNK - 1) / PER_CHUNK);
        }

        @Override
        public void close(Sut sut) {
            sut.pool.close();
        }
    }

    @Test
    void poolCountsEqualTheModelAfterEveryStepAlsoWhenAllocationsAndChunkCommitsFail() {
        long byAllocation = FAILED_BY_ALLOCATION_FAULT.get();
        long byChunk = FAILED_BY_CHUNK_FAULT.get();
        Stateful.of(new Machine()).steps(60).tries(100).check();
        assertTrue(FAILED_BY_ALLOCATION_FAULT.get() > byAllocation, "an injected allocation failure was reached");
        assertTrue(FAILED_BY_CHUNK_FAULT.get() > byChunk, "an injected chunk-commit failure was reached");
    }
}
