package io.pagedkv.cache.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PoolThreading;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The allocator's stateful test on the testkit: random command sequences over open / append /
 * write / fork / write-after-fork / close / exhaust-the-pool, checked against {@link CacheModel}
 * after every command (conservation, one-to-one block ownership with shared blocks only by
 * reference count, reference counts, stats, exact F32 readback through forks and copy-on-write),
 * and every failed allocation proven to change nothing. Failures shrink to a minimal command list.
 */
class AllocatorStateMachineTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);
    static final int BLOCKS = 10;

    static final class Machine implements StateMachine<CacheModel, CacheSystem> {
        final PoolThreading threading;

        Machine(PoolThreading threading) {
            this.threading = threading;
        }

        @Override
        public CacheModel initialModel() {
            return new CacheModel(BLOCKS, LAYOUT.blockSize());
        }

        @Override
        public CacheSystem newSystem() {
            return new CacheSystem(LAYOUT, BLOCKS, threading);
        }

        @Override
        public Gen<Command<CacheModel, CacheSystem>> commands(CacheModel model) {
            Gen<Command<CacheModel, CacheSystem>> open = Gens.constant(new CacheCommand.Open());
            if (model.open().isEmpty()) {
                return open;
            }
            List<Integer> keys = new ArrayList<>();
            for (CacheModel.Seq s : model.open()) {
                keys.add(s.key());
            }
            Gen<Integer> key = Gens.elements(keys);
            Gen<Command<CacheModel, CacheSystem>> append =
                    Gens.zip(key, Gens.ints(1, 14), CacheCommand.Append::new);
            Gen<Command<CacheModel, CacheSystem>> write = key.flatMap(k -> {
                int len = model.byKey(k).length();
                return Gens.zip(Gens.ints(0, Math.max(0, len - 1)), Gens.ints(0, 49),
                        (pos, salt) -> new CacheCommand.Write(k, pos, salt));
            });
            Gen<Command<CacheModel, CacheSystem>> fork = key.map(CacheCommand.Fork::new);
            Gen<Command<CacheModel, CacheSystem>> close = key.map(CacheCommand.Close::new);
            Gen<Command<CacheModel, CacheSystem>> exhaust = key.map(CacheCommand.Exhaust::new);
            // engines write in order: most writes go to the next unwritten position
            Gen<Command<CacheModel, CacheSystem>> writeNext = key.flatMap(k -> {
                CacheModel.Seq m = model.byKey(k);
                int pos = Math.min(m.written(), Math.max(0, m.length() - 1));
                return Gens.ints(0, 49).map(salt -> new CacheCommand.Write(k, pos, salt));
            });
            Gen<Command<CacheModel, CacheSystem>> mark = key.flatMap(k -> Gens.ints(0, model.byKey(k).length())
                    .map(n -> new CacheCommand.MarkWritten(k, n)));
            Gen<Command<CacheModel, CacheSystem>> faultyAppend =
                    Gens.zip(key, Gens.ints(1, 14), Gens.booleans(), CacheCommand.FaultyAppend::new);
            Gen<Command<CacheModel, CacheSystem>> faultyWrite = key.flatMap(k -> {
                int len = model.byKey(k).length();
                return Gens.zip(Gens.ints(0, Math.max(0, len - 1)), Gens.ints(0, 49), Gens.booleans(),
                        (pos, salt, chunk) -> new CacheCommand.FaultyWrite(k, pos, salt, chunk));
            });
            Gen<Command<CacheModel, CacheSystem>> faultyFork = Gens.zip(key, Gens.booleans(), CacheCommand.FaultyFork::new);
            return Gens.choose(append, write, writeNext, writeNext, append, fork, close, open, exhaust, mark,
                    faultyAppend, faultyWrite, faultyWrite, faultyFork);
        }

        @Override
        public void invariants(CacheModel model, CacheSystem sut) {
            sut.check(model);
        }

        @Override
        public void close(CacheSystem sut) {
            sut.close();
        }
    }

    @Test
    void everyCommandKeepsConservationOwnershipExactReadbackAndTheWrittenMarkAlsoWhenAllocationsFail() {
        long appends = CacheCommand.Coverage.APPEND.get();
        long copies = CacheCommand.Coverage.COPY_ON_WRITE.get();
        long forks = CacheCommand.Coverage.FORK.get();
        Stateful.of(new Machine(PoolThreading.LOCKED)).steps(60).tries(100).check();
        assertTrue(CacheCommand.Coverage.APPEND.get() > appends, "a fault made an append fail");
        assertTrue(CacheCommand.Coverage.COPY_ON_WRITE.get() > copies, "a fault made a copy-on-write fail");
        assertTrue(CacheCommand.Coverage.FORK.get() > forks, "a fork ran with a fault armed");
    }

    /** Issue 27: the same commands on an OWNER pool (the test thread owns it) and on thread caches. */
    @Test
    void everyCommandKeepsTheInvariantsOnAnOwnerPoolAndOnAThreadCachedPool() {
        Stateful.of(new Machine(PoolThreading.OWNER)).steps(60).tries(30).check();
        Stateful.of(new Machine(PoolThreading.THREAD_CACHES)).steps(60).tries(30).check();
    }
}
