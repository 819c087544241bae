package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A state machine on the testkit: {@link SequenceEvictor}s on a real paged cache driven by a policy
 * (decode steps that evict before placing, prompt chunks, compressions), forks that carry the policy
 * state, prefix-cache hits, overwrites and closes, against a plain model. After every step every kept
 * token of every open sequence reads back exactly its K/V (F32) by position, nothing appears that was
 * never written, the cache never holds more than the budget after a decode step or a compression,
 * every block-table entry names a live block whose reference count equals the number of tables naming
 * it (+1 if the prefix index holds it), blocks are conserved, and the cached prefix still reads the
 * donor's K/V. A twin fork (fork, then the same step on both) must keep the same positions.
 */
class EvictingSequenceStatefulTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 2, 2, 4);
    static final int LAYERS = 2;
    static final int HEADS = 2;
    static final int WIDTH = 2 * 4; // kvHeads * headDim
    static final int BLOCK = 4;
    static final int MAX_OPEN = 4;

    /** What one sequence should hold: the K/V of every kept position. */
    static final class SeqModel {
        final Map<Integer, float[][]> kv = new HashMap<>();

        SeqModel copy() {
            SeqModel m = new SeqModel();
            kv.forEach((p, v) -> m.kv.put(p, Arrays.stream(v).map(float[]::clone).toArray(float[][]::new)));
            return m;
        }
    }

    static final class Model {
        final List<SeqModel> seqs = new ArrayList<>(List.of(new SeqModel()));
    }

    static final class Sys {
        final PagedKvCache cache = new PagedKvCache(new CacheLayout(SHAPE, KvDType.F32, BLOCK), 256);
        final List<SequenceEvictor> open = new ArrayList<>();
        final Supplier<EvictionPolicy> policy;

        Sys(Supplier<EvictionPolicy> policy) {
            this.policy = policy;
            open.add(new SequenceEvictor(cache.openSequence(), policy.get()));
            // A donor request writes PROMPT and commits its two full blocks to the prefix cache, then
            // closes: its blocks stay cached (unreferenced) for later prefix hits.
            try (var donor = cache.openSequence(PROMPT)) {
                donor.appendTokens(PROMPT, 0, PROMPT.length);
                for (int p = 0; p < PROMPT.length; p++) {
                    float[][] kv = prefixKv(p);
                    for (int l = 0; l < LAYERS; l++) {
                        donor.write(l, p, kv[2 * l], kv[2 * l + 1]);
                    }
                }
                assertEquals(2, donor.commitPrefix());
            }
        }
    }

    /** The donor prompt: two full blocks plus one token (a hit reuses the two blocks). */
    static final int[] PROMPT = {11, 12, 13, 14, 15, 16, 17, 18, 19};

    /** The K/V the donor wrote at prompt position {@code p}. */
    static float[][] prefixKv(int p) {
        SplittableRandom rnd = new SplittableRandom(1000 + p);
        float[][] kv = new float[2 * LAYERS][WIDTH];
        for (float[] row : kv) {
            for (int i = 0; i < WIDTH; i++) {
                row[i] = (float) rnd.nextGaussian();
            }
        }
        return kv;
    }

    record Machine(Supplier<EvictionPolicy> policy) implements StateMachine<Model, Sys> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sys newSystem() {
            return new Sys(policy);
        }

        @Override
        public Gen<Command<Model, Sys>> commands(Model m) {
            Gen<Integer> seed = Gens.ints(0, 1 << 16);
            Gen<Integer> seq = Gens.ints(0, MAX_OPEN - 1);
            return Gens.frequency(4, Gens.zip(seq, seed, DecodeStep::new),
                    2, Gens.choose(
                            Gens.zip(seq, Gens.ints(1, 6), seed, Prefill::new),
                            seq.map(Compress::new),
                            Gens.zip(seq, seed, Overwrite::new)),
                    1, Gens.choose(
                            seq.map(Fork::new),
                            Gens.zip(seq, seed, TwinFork::new),
                            seq.map(Close::new),
                            Gens.constant(0).map(x -> new PrefixHit())));
        }

        @Override
        public void invariants(Model m, Sys sys) {
            check(sys, m);
        }

        @Override
        public void close(Sys sys) {
            for (int i = sys.open.size() - 1; i >= 0; i--) {
                sys.open.get(i).close();
            }
            sys.cache.resetPrefixCache();
            assertEquals(0, sys.cache.pool().usedBlocks(), "every block back in the pool after closing and dropping the prefix cache");
            sys.cache.close();
        }
    }

    static int pick(Model m, int index) {
        return index % m.seqs.size();
    }

    /** Writes fresh K/V for {@code pos} through the evictor (which shows it to the policy) and records it. */
    static void write(SequenceEvictor ev, SeqModel sm, int pos, SplittableRandom rnd) {
        float[][] kv = new float[2 * LAYERS][WIDTH];
        for (int l = 0; l < LAYERS; l++) {
            for (int i = 0; i < WIDTH; i++) {
                kv[2 * l][i] = (float) rnd.nextGaussian();
                kv[2 * l + 1][i] = (float) rnd.nextGaussian();
            }
            ev.write(l, pos, kv[2 * l], kv[2 * l + 1]);
        }
        sm.kv.put(pos, kv);
    }

    /** Attention rows of every (layer, query head) over the slots, coarse so that ties happen. */
    static void attend(SequenceEvictor ev, SplittableRandom rnd) {
        if (!ev.usesAttention()) {
            return;
        }
        float[] row = new float[ev.slots()];
        for (int l = 0; l < LAYERS; l++) {
            for (int h = 0; h < HEADS; h++) {
                for (int s = 0; s < row.length; s++) {
                    row[s] = ev.isHole(s) ? 5f : rnd.nextInt(4) / 4f;
                }
                ev.attention(l, h, row, 0);
            }
        }
    }

    /** The policy decides what is kept: the model follows, checking nothing appears from nowhere. */
    static void resync(SequenceEvictor ev, SeqModel sm) {
        Map<Integer, float[][]> kept = new HashMap<>();
        int live = 0;
        for (int s = 0; s < ev.slots(); s++) {
            int p = ev.positionOf(s);
            if (p >= 0) {
                live++;
                assertEquals(s, ev.slotOf(p), "slotOf inverts positionOf");
                assertTrue(sm.kv.containsKey(p), "position " + p + " appeared from nowhere");
                kept.put(p, sm.kv.get(p));
            }
        }
        assertEquals(live, ev.liveTokens());
        sm.kv.clear();
        sm.kv.putAll(kept);
    }

    static void decode(SequenceEvictor ev, SeqModel sm, int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int pos = ev.append(seed);
        sm.kv.put(pos, null);
        write(ev, sm, pos, rnd);
        attend(ev, rnd);
        resync(ev, sm);
        int budget = ev.budget().tokensAt(ev.nextPosition());
        assertTrue(ev.liveTokens() <= budget, "a decode step never leaves more than the budget: " + ev.liveTokens() + " > " + budget);
    }

    /** A decode step: evict first, place, write K/V, show the policy the step's attention. */
    record DecodeStep(int index, int seed) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            decode(sys.open.get(i), m.seqs.get(i), seed);
        }

        @Override
        public String toString() {
            return "decode(seq " + index + ", " + seed + ")";
        }
    }

    /** A prompt chunk of n tokens, placed with no eviction. */
    record Prefill(int index, int n, int seed) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            SequenceEvictor ev = sys.open.get(i);
            SplittableRandom rnd = new SplittableRandom(seed);
            int[] ids = new int[n];
            Arrays.fill(ids, seed);
            int first = ev.prefill(ids, 0, n);
            for (int p = first; p < first + n; p++) {
                write(ev, m.seqs.get(i), p, rnd);
            }
            attend(ev, rnd);
            resync(ev, m.seqs.get(i));
        }

        @Override
        public String toString() {
            return "prefill(seq " + index + ", " + n + " tokens, " + seed + ")";
        }
    }

    /** Evict to the budget, release all-hole blocks, tail-fill. */
    record Compress(int index) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            SequenceEvictor ev = sys.open.get(i);
            ev.compress();
            resync(ev, m.seqs.get(i));
            assertEquals(0, ev.holes(), "no hole after a compression");
            assertEquals(ev.liveTokens(), ev.slots());
            assertTrue(ev.liveTokens() <= ev.budget().tokensAt(ev.nextPosition()), "within the budget");
        }

        @Override
        public String toString() {
            return "compress(seq " + index + ")";
        }
    }

    /** Overwrite the K/V of a kept token (copy-on-write if its block is shared). */
    record Overwrite(int index, int seed) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.get(pick(m, index)).kv.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            SeqModel sm = m.seqs.get(i);
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Integer> kept = new ArrayList<>(new TreeSet<>(sm.kv.keySet()));
            write(sys.open.get(i), sm, kept.get(rnd.nextInt(kept.size())), rnd);
        }

        @Override
        public String toString() {
            return "overwrite(seq " + index + ", " + seed + ")";
        }
    }

    /** Fork a sequence: blocks shared, the policy copied with its state. */
    record Fork(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            sys.open.add(sys.open.get(i).fork());
            m.seqs.add(m.seqs.get(i).copy());
        }

        @Override
        public String toString() {
            return "fork(seq " + index + ")";
        }
    }

    /** Fork, then the same decode step on parent and fork: the copied policy keeps the same positions. */
    record TwinFork(int index, int seed) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            SequenceEvictor parent = sys.open.get(i);
            SequenceEvictor child = parent.fork();
            sys.open.add(child);
            m.seqs.add(m.seqs.get(i).copy());
            SeqModel childModel = m.seqs.get(m.seqs.size() - 1);
            for (int k = 0; k < 3; k++) {
                decode(parent, m.seqs.get(i), seed + k);
                decode(child, childModel, seed + k);
                assertEquals(new TreeSet<>(m.seqs.get(i).kv.keySet()), new TreeSet<>(childModel.kv.keySet()),
                        "the fork keeps the same positions as its parent on the same step");
            }
        }

        @Override
        public String toString() {
            return "twinFork(seq " + index + ", " + seed + ")";
        }
    }

    /** A new request hits the donor's cached prefix: an evictor over the shared blocks, keys read back. */
    static final class PrefixHit implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            SequenceEvictor ev = new SequenceEvictor(sys.cache.openSequence(PROMPT), sys.policy.get());
            assertEquals(2 * BLOCK, ev.liveTokens(), "the two committed blocks are reused");
            SeqModel sm = new SeqModel();
            for (int p = 0; p < 2 * BLOCK; p++) {
                sm.kv.put(p, prefixKv(p));
            }
            sys.open.add(ev);
            m.seqs.add(sm);
        }

        @Override
        public String toString() {
            return "prefixHit()";
        }
    }

    /** Close a sequence (the root too); with none left, a fresh one opens. */
    record Close(int index) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            int i = pick(m, index);
            sys.open.remove(i).close();
            m.seqs.remove(i);
            if (m.seqs.isEmpty()) {
                sys.open.add(new SequenceEvictor(sys.cache.openSequence(), sys.policy.get()));
                m.seqs.add(new SeqModel());
            }
        }

        @Override
        public String toString() {
            return "close(seq " + index + ")";
        }
    }

    static void check(Sys sys, Model m) {
        Map<Integer, Integer> namedBy = new HashMap<>();
        float[] got = new float[4];
        assertEquals(m.seqs.size(), sys.open.size());
        for (int i = 0; i < sys.open.size(); i++) {
            SequenceEvictor ev = sys.open.get(i);
            SeqModel sm = m.seqs.get(i);
            assertEquals(sm.kv.size(), ev.liveTokens(), "seq " + i + " live tokens");
            for (Map.Entry<Integer, float[][]> e : sm.kv.entrySet()) {
                int p = e.getKey();
                float[][] kv = e.getValue();
                for (int l = 0; l < LAYERS; l++) {
                    for (int h = 0; h < HEADS; h++) {
                        ev.readKey(l, h, p, got, 0);
                        assertArrayEquals(Arrays.copyOfRange(kv[2 * l], h * 4, h * 4 + 4), got,
                                "seq " + i + " key of position " + p + " layer " + l + " head " + h);
                        ev.readValue(l, h, p, got, 0);
                        assertArrayEquals(Arrays.copyOfRange(kv[2 * l + 1], h * 4, h * 4 + 4), got,
                                "seq " + i + " value of position " + p);
                    }
                }
            }
            assertEquals((ev.slots() + BLOCK - 1) / BLOCK, ev.blockCount(), "block count covers the slots exactly");
            for (int b = 0; b < ev.blockCount(); b++) {
                namedBy.merge(ev.blockId(b), 1, Integer::sum);
            }
        }
        var pool = sys.cache.pool();
        for (Map.Entry<Integer, Integer> b : namedBy.entrySet()) {
            int rc = pool.refCount(b.getKey());
            // The prefix index may hold one more reference on a block it indexes.
            assertTrue(rc == b.getValue() || rc == b.getValue() + 1,
                    "block " + b.getKey() + " is named by " + b.getValue() + " tables but has refCount " + rc
                    + " (a freed block has refCount 0)");
        }
        var stats = sys.cache.stats();
        assertEquals(stats.totalBlocks(), stats.freeBlocks() + stats.usedBlocks() + stats.cachedBlocks(),
                "conservation: free + used + cached = total");
        assertTrue(pool.usedBlocks() >= namedBy.size(), "every block named by a table is in use");
        // The cached prefix was never written in place: a fresh hit still reads the donor's K/V.
        try (var hit = sys.cache.openSequence(PROMPT)) {
            assertEquals(2 * BLOCK, hit.reusedTokens());
            for (int p = 0; p < 2 * BLOCK; p++) {
                float[][] kv = prefixKv(p);
                for (int l = 0; l < LAYERS; l++) {
                    hit.readKey(l, 1, p, got, 0);
                    assertArrayEquals(Arrays.copyOfRange(kv[2 * l], 4, 8), got, "cached prefix key, position " + p);
                }
            }
        }
    }

    @Test
    void windowKeepsKvPositionsAndBlocksThroughEvictionForksAndCompaction() {
        Stateful.of(new Machine(() -> new SlidingWindow(6))).steps(60).tries(40).check();
    }

    @Test
    void blockGranularSinksReleaseWholeBlocksAndKeepKvPositionsAndBlocks() {
        Stateful.of(new Machine(() -> new AttentionSinks(Budget.tokens(12), 2, BLOCK))).steps(60).tries(40).check();
    }

    @Test
    void heavyHittersKeepKvPositionsAndBlocksThroughEvictionForksAndCompaction() {
        Stateful.of(new Machine(() -> new HeavyHitters(6, 3, HeavyHitters.Accumulation.SUM))).steps(60).tries(40).check();
    }

    @Test
    void keyNormKeepsKvPositionsAndBlocksThroughEvictionForksAndCompaction() {
        Stateful.of(new Machine(() -> new KeyNorm(7, 1, 2))).steps(60).tries(40).check();
    }

    @Test
    void keyDiffWithARatioBudgetKeepsKvPositionsAndBlocks() {
        Stateful.of(new Machine(() -> new KeyDiff(Budget.ratio(0.5, 6), 1, 1, 1))).steps(60).tries(30).check();
    }

    @Test
    void lagKvKeepsKvPositionsAndBlocks() {
        Stateful.of(new Machine(() -> new LagKv(10, 2, 3))).steps(60).tries(30).check();
    }
}
