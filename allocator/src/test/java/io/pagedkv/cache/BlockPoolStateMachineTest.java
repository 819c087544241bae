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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The bare pool against a model (reference count per block), with faults (Must show 2 of issue 24),
 * in every {@link PoolThreading} mode (issue 27): allocations of one or many blocks, some with the next
 * allocation call or chunk commit armed to fail, retain, retain-all, release, release-all, free, and
 * misuse. Every change may run on a second thread: with thread caches that thread keeps blocks in its
 * own cache, so an allocation on the test thread must take them from it before it answers "short" (the
 * model knows no caches: an allocation succeeds exactly when the model has enough free blocks); in
 * {@code OWNER} mode (owned by the test thread) the second thread's change must throw and change
 * nothing. After every step the pool's counts equal the model's, {@code free + used == total},
 * cached blocks are a part of the free ones, and every chunk that holds an allocated block is
 * committed; a failed allocation changed nothing but (maybe) committed memory. Two blocks per chunk,
 * so chunk commits happen all along a run; thread caches of 4 blocks, so refills and flushes do too.
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
        final PoolThreading threading;
        final BlockPool pool;
        final ExecutorService other = Executors.newSingleThreadExecutor();

        Sut(PoolThreading threading) {
            this.threading = threading;
            this.pool = BlockPool.builder(BLOCKS, 32).blocksPerChunk(PER_CHUNK).faults(faults).threading(threading)
                    .threadCacheBlocks(4).build();
            if (threading == PoolThreading.OWNER) {
                pool.transferOwnership(Thread.currentThread()); // owned by the thread that runs the commands
            }
        }

        /** Runs {@code change} on this thread, or on the second thread when {@code elsewhere}. */
        <T> T run(boolean elsewhere, Callable<T> change) {
            if (!elsewhere) {
                try {
                    return change.call();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
            try {
                return other.submit(change).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new AssertionError(e.getCause());
            } catch (InterruptedException | TimeoutException e) {
                throw new AssertionError(e);
            }
        }

        /** Whether a change on the second thread must be refused (an {@code OWNER} pool owned by this thread). */
        boolean refused(boolean elsewhere) {
            return elsewhere && threading == PoolThreading.OWNER;
        }

        /** In {@code OWNER} mode, a change from the second thread throws and changes nothing. */
        boolean refusedElsewhere(boolean elsewhere, Callable<?> change) {
            if (!refused(elsewhere)) {
                return false;
            }
            int[] before = state(pool);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(true, change));
            assertTrue(e.getMessage().contains("owned by thread"), e.getMessage());
            assertArrayEquals(before, state(pool), "a refused change changes nothing");
            return true;
        }
    }

    static int[] state(BlockPool pool) {
        int[] rc = new int[BLOCKS];
        for (int id = 0; id < BLOCKS; id++) {
            rc[id] = pool.refCount(id);
        }
        return rc;
    }

    /** Allocates {@code n} blocks (1: the single-block call); {@code fault}: 0 none, 1 allocation, 2 chunk commit. */
    record Allocate(int n, int fault, boolean elsewhere) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (sut.refusedElsewhere(elsewhere, () -> n == 1 ? sut.pool.allocate() : sut.pool.allocate(n, new int[n]))) {
                return;
            }
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
                int id = sut.run(elsewhere, () -> sut.pool.allocate());
                ok = id != BlockPool.NO_BLOCK;
                if (ok) {
                    out[0] = id;
                }
            } else {
                ok = sut.run(elsewhere, () -> sut.pool.allocate(n, out));
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
            return "allocate(" + n + (fault == 1 ? ", allocation fails" : fault == 2 ? ", chunk commit fails" : "") + ")"
                    + where(elsewhere);
        }
    }

    record Retain(int id, boolean elsewhere) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (sut.refusedElsewhere(elsewhere, () -> {
                sut.pool.retain(id);
                return null;
            })) {
                return;
            }
            if (model.refCounts[id] == 0) {
                assertThrows(IllegalStateException.class, () -> sut.run(elsewhere, () -> {
                    sut.pool.retain(id);
                    return null;
                }));
                return;
            }
            sut.run(elsewhere, () -> {
                sut.pool.retain(id);
                return null;
            });
            model.refCounts[id]++;
        }

        @Override
        public String toString() {
            return "retain(" + id + ")" + where(elsewhere);
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

    record Release(int id, boolean elsewhere) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (sut.refusedElsewhere(elsewhere, () -> sut.pool.release(id))) {
                return;
            }
            if (model.refCounts[id] == 0) {
                assertThrows(IllegalStateException.class, () -> sut.run(elsewhere, () -> sut.pool.release(id)),
                        "double release");
                return;
            }
            assertEquals(model.refCounts[id] == 1, sut.run(elsewhere, () -> sut.pool.release(id)));
            model.refCounts[id]--;
        }

        @Override
        public String toString() {
            return "release(" + id + ")" + where(elsewhere);
        }
    }

    /** One {@code releaseAll}: all or none (an id listed more often than it is held releases nothing). */
    record ReleaseAll(int[] ids, boolean elsewhere) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (sut.refusedElsewhere(elsewhere, () -> sut.pool.releaseAll(ids, ids.length))) {
                return;
            }
            int[] after = model.refCounts.clone();
            boolean ok = true;
            int freed = 0;
            for (int id : ids) {
                ok &= after[id] > 0;
                if (ok && --after[id] == 0) {
                    freed++;
                }
            }
            if (!ok) {
                int[] before = state(sut.pool);
                int free = sut.pool.freeBlocks();
                assertThrows(IllegalStateException.class, () -> sut.run(elsewhere, () -> sut.pool.releaseAll(ids,
                        ids.length)));
                assertArrayEquals(before, state(sut.pool), "all or none");
                assertEquals(free, sut.pool.freeBlocks(), "nothing freed");
                return;
            }
            assertEquals(freed, sut.run(elsewhere, () -> sut.pool.releaseAll(ids, ids.length)), "blocks freed");
            System.arraycopy(after, 0, model.refCounts, 0, BLOCKS);
        }

        @Override
        public String toString() {
            return "releaseAll(" + Arrays.toString(ids) + ")" + where(elsewhere);
        }
    }

    record Free(int id, boolean elsewhere) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            if (sut.refusedElsewhere(elsewhere, () -> {
                sut.pool.free(id);
                return null;
            })) {
                return;
            }
            if (model.refCounts[id] != 1) {
                assertThrows(IllegalStateException.class, () -> sut.run(elsewhere, () -> {
                    sut.pool.free(id);
                    return null;
                }));
                return;
            }
            sut.run(elsewhere, () -> {
                sut.pool.free(id);
                return null;
            });
            model.refCounts[id] = 0;
        }

        @Override
        public String toString() {
            return "free(" + id + ")" + where(elsewhere);
        }
    }

    static String where(boolean elsewhere) {
        return elsewhere ? " on the second thread" : "";
    }

    static final class Machine implements StateMachine<Model, Sut> {
        final PoolThreading threading;

        Machine(PoolThreading threading) {
            this.threading = threading;
        }

        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sut newSystem() {
            return new Sut(threading);
        }

        @Override
        public Gen<Command<Model, Sut>> commands(Model model) {
            Gen<Integer> fault = Gens.frequency(3, Gens.constant(0), 2, Gens.ints(1, 2));
            Gen<Boolean> elsewhere = Gens.frequency(3, Gens.constant(false), 1, Gens.constant(true));
            Gen<Command<Model, Sut>> allocate = Gens.zip(Gens.ints(1, 4), fault, elsewhere, Allocate::new);
            Gen<Integer> id = model.held().isEmpty() ? Gens.ints(0, BLOCKS - 1)
                    : Gens.frequency(4, Gens.elements(model.held()), 1, Gens.ints(0, BLOCKS - 1));
            Gen<Command<Model, Sut>> retain = Gens.zip(id, elsewhere, Retain::new);
            Gen<Command<Model, Sut>> retainAll = Gens.intArrays(id, 1, 3).map(RetainAll::new);
            Gen<Command<Model, Sut>> release = Gens.zip(id, elsewhere, Release::new);
            Gen<Command<Model, Sut>> releaseAll = Gens.zip(Gens.intArrays(id, 1, 4), elsewhere, ReleaseAll::new);
            Gen<Command<Model, Sut>> free = Gens.zip(id, elsewhere, Free::new);
            return Gens.choose(allocate, allocate, allocate, retain, retainAll, release, release, releaseAll, free);
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
            assertEquals(model.free(), pool.freeBlocks(), "free (thread caches included)");
            assertEquals(BLOCKS, pool.freeBlocks() + pool.usedBlocks(), "conservation");
            int cached = pool.threadCachedBlocks();
            assertTrue(cached >= 0 && cached <= pool.freeBlocks(), "cached blocks are free ones: " + cached);
            if (sut.threading != PoolThreading.THREAD_CACHES) {
                assertEquals(0, cached, "no thread caches");
            }
            assertEquals(shared, pool.sharedBlocks(), "shared");
            assertTrue(pool.committedChunks() <= (BLOCKS + PER_CHUNK - 1) / PER_CHUNK);
        }

        @Override
        public void close(Sut sut) {
            sut.other.shutdownNow();
            sut.pool.close();
        }
    }

    @Test
    void poolCountsEqualTheModelAfterEveryStepAlsoWhenAllocationsAndChunkCommitsFail() {
        check(PoolThreading.LOCKED, 100);
    }

    @Test
    void ownerPoolCountsEqualTheModelAfterEveryStepAndRefuseChangesFromAnotherThread() {
        check(PoolThreading.OWNER, 60);
    }

    @Test
    void threadCachedPoolCountsEqualTheModelAndAnAllocationTakesBlocksCachedByAnotherThreadBeforeAnsweringShort() {
        check(PoolThreading.THREAD_CACHES, 60);
    }

    private static void check(PoolThreading threading, int tries) {
        long byAllocation = FAILED_BY_ALLOCATION_FAULT.get();
        long byChunk = FAILED_BY_CHUNK_FAULT.get();
        Stateful.of(new Machine(threading)).steps(60).tries(tries).check();
        assertTrue(FAILED_BY_ALLOCATION_FAULT.get() > byAllocation, "an injected allocation failure was reached");
        assertTrue(FAILED_BY_CHUNK_FAULT.get() > byChunk, "an injected chunk-commit failure was reached");
    }
}
