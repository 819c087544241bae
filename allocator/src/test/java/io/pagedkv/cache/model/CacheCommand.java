package io.pagedkv.cache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.PoolExhaustedException;
import io.pagedkv.cache.Sequence;
import io.pagedkv.testkit.Command;

/**
 * One step of the stateful allocator test: applied to the model and the system, asserting that
 * both agree on the outcome (success, or a failure that changes nothing).
 */
public sealed interface CacheCommand extends Command<CacheModel, CacheSystem> {

    /** Whether the command makes sense in this model state. */
    @Override
    boolean precondition(CacheModel model);

    /** Runs on both and asserts the postcondition. */
    @Override
    void run(CacheModel model, CacheSystem sut);

    /** Opens an empty sequence. */
    record Open() implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return true;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.openSeq();
            Sequence s = sut.cache.openSequence();
            assertEquals(0, s.length());
            sut.put(m.key, s);
        }

        @Override
        public String toString() {
            return "open()";
        }
    }

    /** Appends {@code n} tokens; succeeds exactly when the model says enough blocks are free. */
    record Append(int key, int n) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.byKey(key);
            Sequence s = sut.seq(key);
            int need = model.blocksToAppend(m, n);
            assertEquals(need, s.blocksToAppend(n), "blocksToAppend");
            boolean fits = need <= model.freeBlocks();
            assertEquals(fits, sut.cache.canAppend(s, n), "canAppend");
            if (fits) {
                assertTrue(s.tryAppend(n), "tryAppend(" + n + ") with " + need + " needed of " + model.freeBlocks());
                model.append(m, n);
            } else {
                CacheSnapshot before = sut.snapshot();
                assertFalse(s.tryAppend(n), "tryAppend(" + n + ") must fail");
                before.assertUnchanged(sut.snapshot());
                assertThrows(PoolExhaustedException.class, () -> s.append(n));
                before.assertUnchanged(sut.snapshot());
            }
        }

        @Override
        public String toString() {
            return "append(s" + key + ", " + n + ")";
        }
    }

    /** Appends as many tokens as fit, then checks that one more fails and changes nothing. */
    record Exhaust(int key) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.byKey(key);
            Sequence s = sut.seq(key);
            int max = model.maxAppend(m);
            if (max > 0) {
                assertTrue(s.tryAppend(max), "tryAppend(" + max + ") should just fit");
                model.append(m, max);
            }
            CacheSnapshot before = sut.snapshot();
            assertFalse(s.tryAppend(1), "the pool is exhausted for " + m);
            before.assertUnchanged(sut.snapshot());
        }

        @Override
        public String toString() {
            return "exhaust(s" + key + ")";
        }
    }

    /** Writes K/V of every layer of one token with a salt; a shared block is copied first. */
    record Write(int key, int position, int salt) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            CacheModel.Seq m = model.byKey(key);
            return m != null && position < m.length();
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.byKey(key);
            Sequence s = sut.seq(key);
            if (model.writeNeedsCopy(m, position) && model.freeBlocks() == 0) {
                CacheSnapshot before = sut.snapshot();
                assertThrows(PoolExhaustedException.class, () -> KvPattern.writeToken(s, salt, position));
                before.assertUnchanged(sut.snapshot());
                return;
            }
            KvPattern.writeToken(s, salt, position);
            model.write(m, position, salt);
        }

        @Override
        public String toString() {
            return "write(s" + key + ", pos " + position + ", salt " + salt + ")";
        }
    }

    /** Forks a sequence: the child shares every block. */
    record Fork(int key) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq child = model.fork(model.byKey(key));
            sut.put(child.key, sut.seq(key).fork());
        }

        @Override
        public String toString() {
            return "fork(s" + key + ")";
        }
    }

    /** Closes a sequence, then checks that a second close and a later append change nothing. */
    record Close(int key) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            Sequence s = sut.seqs.remove(key);
            s.close();
            model.close(model.byKey(key));
            CacheSnapshot before = sut.snapshot();
            s.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> s.append(1));
            assertEquals(0, s.length());
            before.assertUnchanged(sut.snapshot());
        }

        @Override
        public String toString() {
            return "close(s" + key + ")";
        }
    }

    /** Faults that fired, per exhaustion path, over the whole test run (the test asserts each was reached). */
    final class Coverage {
        /** An allocation fault or chunk-commit fault that made an append fail. */
        public static final java.util.concurrent.atomic.AtomicLong APPEND = new java.util.concurrent.atomic.AtomicLong();
        /** A fault that made a copy-on-write inside a write fail. */
        public static final java.util.concurrent.atomic.AtomicLong COPY_ON_WRITE = new java.util.concurrent.atomic.AtomicLong();
        /** Forks run with a fault armed (fork allocates no block, so the fault must not fire). */
        public static final java.util.concurrent.atomic.AtomicLong FORK = new java.util.concurrent.atomic.AtomicLong();

        private Coverage() {
        }
    }

    /** Arms the next allocation call ({@code chunk == false}) or chunk commit to fail. */
    static void arm(CacheSystem sut, boolean chunk) {
        if (chunk) {
            sut.faults.failNthChunkCommit(1);
        } else {
            sut.faults.failNthAllocation(1);
        }
    }

    static void disarm(CacheSystem sut) {
        sut.faults.failNthAllocation(0).failNthChunkCommit(0);
    }

    /** States that the first {@code n} tokens are written ({@code Sequence.markWritten}). */
    record MarkWritten(int key, int n) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            CacheModel.Seq m = model.byKey(key);
            return m != null && n <= m.length();
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            sut.seq(key).markWritten(n);
            model.markWritten(model.byKey(key), n);
        }

        @Override
        public String toString() {
            return "markWritten(s" + key + ", " + n + ")";
        }
    }

    /**
     * Appends with a fault armed on the next pool allocation (or chunk commit): it succeeds exactly
     * when the model says it fits and the fault did not fire; a failure changes nothing.
     */
    record FaultyAppend(int key, int n, boolean chunk) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.byKey(key);
            Sequence s = sut.seq(key);
            boolean fits = model.blocksToAppend(m, n) <= model.freeBlocks();
            CacheSnapshot before = sut.snapshot();
            long injected = sut.faults.injectedFailures();
            arm(sut, chunk);
            boolean ok = s.tryAppend(n);
            disarm(sut);
            boolean fired = sut.faults.injectedFailures() > injected;
            assertEquals(fits && !fired, ok, "tryAppend(" + n + ") fits " + fits + ", fault fired " + fired);
            if (ok) {
                model.append(m, n);
            } else {
                if (fired) {
                    Coverage.APPEND.incrementAndGet();
                }
                before.assertUnchanged(sut.snapshot());
            }
        }

        @Override
        public String toString() {
            return "append(s" + key + ", " + n + ", " + (chunk ? "chunk commit" : "allocation") + " fails)";
        }
    }

    /**
     * Writes with a fault armed: a write that needs a copy-on-write fails (PoolExhaustedException,
     * nothing changed) when the pool is empty or the fault fired; any other write succeeds.
     */
    record FaultyWrite(int key, int position, int salt, boolean chunk) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            CacheModel.Seq m = model.byKey(key);
            return m != null && position < m.length();
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            CacheModel.Seq m = model.byKey(key);
            Sequence s = sut.seq(key);
            boolean copy = model.writeNeedsCopy(m, position);
            CacheSnapshot before = sut.snapshot();
            long injected = sut.faults.injectedFailures();
            arm(sut, chunk);
            PoolExhaustedException failure = null;
            try {
                KvPattern.writeToken(s, salt, position);
            } catch (PoolExhaustedException e) {
                failure = e;
            } finally {
                disarm(sut);
            }
            boolean fired = sut.faults.injectedFailures() > injected;
            assertEquals(copy && (model.freeBlocks() == 0 || fired), failure != null,
                    "write fails exactly when its copy-on-write cannot get a block (fault fired " + fired + ")");
            if (failure == null) {
                model.write(m, position, salt);
            } else {
                if (fired) {
                    Coverage.COPY_ON_WRITE.incrementAndGet();
                }
                before.assertUnchanged(sut.snapshot());
            }
        }

        @Override
        public String toString() {
            return "write(s" + key + ", pos " + position + ", salt " + salt + ", " + (chunk ? "chunk commit" : "allocation")
                    + " fails)";
        }
    }

    /** Forks with a fault armed: a fork takes no block from the pool, so it succeeds and the fault never fires. */
    record FaultyFork(int key, boolean chunk) implements CacheCommand {
        @Override
        public boolean precondition(CacheModel model) {
            return model.byKey(key) != null;
        }

        @Override
        public void run(CacheModel model, CacheSystem sut) {
            long injected = sut.faults.injectedFailures();
            arm(sut, chunk);
            Sequence child = sut.seq(key).fork();
            disarm(sut);
            assertEquals(injected, sut.faults.injectedFailures(), "a fork takes no block from the pool");
            Coverage.FORK.incrementAndGet();
            sut.put(model.fork(model.byKey(key)).key, child);
        }

        @Override
        public String toString() {
            return "fork(s" + key + ", " + (chunk ? "chunk commit" : "allocation") + " armed)";
        }
    }
}
