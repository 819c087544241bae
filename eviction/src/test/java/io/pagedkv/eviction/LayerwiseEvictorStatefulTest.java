package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PoolExhaustedException;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A state machine on the testkit: a {@link LayerwiseEvictor} of three layers with different windows
 * (4 and 6 tokens token-granular, 8 tokens evicted by whole blocks of 4) over one small pool that a
 * second sequence squeezes, driven by decode steps, prompt chunks under the budgets, prompts placed
 * whole, compressions, and the squeezer taking and giving back blocks, against a plain model of each
 * layer's kept positions. Invariants after every step: every layer keeps exactly the model's
 * positions, every kept position reads back its K/V in that layer, and blocks are conserved (free +
 * held by the layers + held by the squeezer = the pool). A step the pool refuses changes no layer
 * (the model is left as it was, so any partial change fails the next invariant check), and is
 * refused only when the pool has fewer available blocks than the layers could need.
 */
class LayerwiseEvictorStatefulTest {

    static final int BLOCK = 4;
    static final int POOL = 12;
    static final CacheLayout PER_LAYER = new CacheLayout(ModelShape.of("layer", 1, 2, 2, 2), KvDType.F32, BLOCK);
    static final int[] BUDGETS = {4, 6, 8};
    static final int[] QUANTA = {1, 1, BLOCK};

    static final class Model {
        final List<ArrayDeque<Integer>> kept = new ArrayList<>();
        int next;

        Model() {
            for (int l = 0; l < BUDGETS.length; l++) {
                kept.add(new ArrayDeque<>());
            }
        }

        void evict(int incoming) {
            for (int l = 0; l < BUDGETS.length; l++) {
                ArrayDeque<Integer> k = kept.get(l);
                int excess = k.size() + incoming - BUDGETS[l];
                if (excess > 0) {
                    int count = (excess + QUANTA[l] - 1) / QUANTA[l] * QUANTA[l];
                    for (int i = 0; i < count; i++) {
                        k.removeFirst(); // a window drops its oldest
                    }
                }
            }
        }

        void place(int n) {
            for (ArrayDeque<Integer> k : kept) {
                for (int i = 0; i < n; i++) {
                    k.addLast(next + i);
                }
            }
            next += n;
        }
    }

    static final class Sys implements AutoCloseable {
        final PagedKvCache cache = new PagedKvCache(PER_LAYER, POOL);
        final LayerwiseEvictor ev;
        Sequence squeezer;

        Sys() {
            EvictionPolicy[] p = new EvictionPolicy[BUDGETS.length];
            for (int l = 0; l < p.length; l++) {
                p[l] = new SlidingWindow(Budget.tokens(BUDGETS[l]), QUANTA[l]);
            }
            ev = new LayerwiseEvictor(cache, p);
            squeezer = cache.openSequence();
        }

        void write(int first, int n) {
            for (int pos = first; pos < first + n; pos++) {
                for (int l = 0; l < BUDGETS.length; l++) {
                    ev.write(l, pos, kv(l, pos, 0), kv(l, pos, 1));
                }
            }
        }

        @Override
        public void close() {
            ev.close();
            squeezer.close();
            cache.close();
        }
    }

    static float[] kv(int layer, int pos, int which) {
        float x = 1000f * layer + pos + (which == 0 ? 0.25f : 0.5f);
        return new float[] {x, -x, 2 * x, x + 1};
    }

    /** Refused steps must be justified: fewer available blocks than the layers could need for n tokens. */
    static void checkRefusal(Sys s, int n) {
        int couldNeed = BUDGETS.length * ((n + BLOCK - 1) / BLOCK + 1);
        assertTrue(s.cache.availableBlocks() < couldNeed, "refused " + n + " token(s) with " + s.cache.availableBlocks()
                + " blocks available");
    }

    record Decode() implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            int pos = s.ev.tryAppend(m.next);
            if (pos == LayerwiseEvictor.NO_POSITION) {
                checkRefusal(s, 1);
                return;
            }
            assertEquals(m.next, pos);
            m.evict(1);
            m.place(1);
            s.write(pos, 1);
        }

        public String toString() {
            return "decode";
        }
    }

    record Chunk(int want) implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            int n = Math.min(want, s.ev.maxIncoming());
            int first;
            try {
                first = s.ev.appendChunkWithoutIds(n);
            } catch (PoolExhaustedException e) {
                checkRefusal(s, n);
                return;
            }
            assertEquals(m.next, first);
            m.evict(n);
            m.place(n);
            s.write(first, n);
        }

        public String toString() {
            return "chunk(" + want + ")";
        }
    }

    record Whole(int n) implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            int first;
            try {
                first = s.ev.prefillWithoutIds(n);
            } catch (PoolExhaustedException e) {
                checkRefusal(s, n);
                return;
            }
            assertEquals(m.next, first);
            m.place(n);
            s.write(first, n);
        }

        public String toString() {
            return "prefill(" + n + ")";
        }
    }

    record Compress() implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            s.ev.compress();
            m.evict(0);
        }

        public String toString() {
            return "compress";
        }
    }

    record Squeeze() implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            s.squeezer.tryAppend(BLOCK); // one more block if there is one
        }

        public String toString() {
            return "squeeze";
        }
    }

    record Release() implements Command<Model, Sys> {
        public void run(Model m, Sys s) {
            s.squeezer.close();
            s.squeezer = s.cache.openSequence();
        }

        public String toString() {
            return "release";
        }
    }

    record Machine() implements StateMachine<Model, Sys> {
        public Model initialModel() {
            return new Model();
        }

        public Sys newSystem() {
            return new Sys();
        }

        public Gen<Command<Model, Sys>> commands(Model m) {
            return Gens.frequency(6, Gens.choose(in -> new Decode(), Gens.ints(1, 6).map(Chunk::new)), 2,
                    Gens.choose(Gens.ints(1, 9).map(Whole::new), in -> new Compress()), 2,
                    Gens.choose(in -> new Squeeze(), in -> new Release()));
        }

        public void invariants(Model m, Sys s) {
            assertEquals(m.next, s.ev.nextPosition());
            int held = 0;
            float[] k = new float[2];
            for (int l = 0; l < BUDGETS.length; l++) {
                ArrayDeque<Integer> want = m.kept.get(l);
                assertEquals(want.size(), s.ev.liveTokens(l), "layer " + l + " kept count");
                for (int p = 0; p < m.next; p++) {
                    assertEquals(want.contains(p), s.ev.isKept(l, p), "layer " + l + " position " + p);
                }
                for (int p : want) {
                    for (int h = 0; h < 2; h++) {
                        s.ev.readKey(l, h, p, k, 0);
                        float[] expect = kv(l, p, 0);
                        assertEquals(expect[2 * h], k[0], "layer " + l + " position " + p + " head " + h);
                    }
                }
                held += s.ev.blockCount(l);
            }
            assertEquals(POOL, s.cache.freeBlocks() + held + s.squeezer.blockCount(), "blocks conserved");
        }

        public void close(Sys s) {
            s.close();
        }
    }

    @Test
    void everyLayerKeepsItsWindowTheStepsThePoolRefusesChangeNothingAndBlocksAreConserved() {
        Stateful.of(new Machine()).steps(60).tries(300).check();
    }
}
