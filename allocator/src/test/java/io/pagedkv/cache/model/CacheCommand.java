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

    /** Closes a sequence, then checks that a second close throws and changes nothing. */
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
            assertThrows(IllegalStateException.class, s::close);
            assertThrows(IllegalStateException.class, () -> s.append(1));
            before.assertUnchanged(sut.snapshot());
        }

        @Override
        public String toString() {
            return "close(s" + key + ")";
        }
    }
}
