package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockPoolView;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
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
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A state machine on the testkit: eviction by a policy, slot reuse, block release and tail-fill
 * compaction interleaved with appends, forks, prefix-cache hits, overwrites and closes, on a real
 * paged cache, against a
 * plain model. After every step every kept token of every open sequence reads back exactly its K/V
 * (F32) and its original position, every block-table entry names a live block whose reference count
 * equals the number of tables naming it, and blocks are conserved.
 */
class EvictingSequenceStatefulTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 2, 2, 4);
    static final int LAYERS = 2;
    static final int WIDTH = 2 * 4; // kvHeads * headDim
    static final int BLOCK = 4;
    static final int MAX_OPEN = 4;

    /** What one sequence should hold: per slot, the original position and the K/V of every layer. */
    static final class SeqModel {
        final TreeMap<Integer, Integer> position = new TreeMap<>();
        final Map<Integer, float[][]> kv = new HashMap<>();

        SeqModel copy() {
            SeqModel m = new SeqModel();
            m.position.putAll(position);
            kv.forEach((s, v) -> m.kv.put(s, Arrays.stream(v).map(float[]::clone).toArray(float[][]::new)));
            return m;
        }

        void move(int from, int to) {
            position.put(to, position.remove(from));
            kv.put(to, kv.remove(from));
        }
    }

    /** The model: one SeqModel per open sequence (index 0 is the root, which runs the policy). */
    static final class Model {
        final List<SeqModel> seqs = new ArrayList<>(List.of(new SeqModel()));
        int nextPosition;
    }

    /** The system: a cache, the open sequences and the root's evictor. */
    static final class Sys {
        final PagedKvCache cache = new PagedKvCache(new CacheLayout(SHAPE, KvDType.F32, BLOCK), 256);
        final List<EvictingSequence> open = new ArrayList<>();
        final SequenceEvictor root;

        Sys(EvictionPolicy policy) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            open.add(s);
            root = new SequenceEvictor(s, policy);
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
            return new Sys(policy.get());
        }

        @Override
        public Gen<Command<Model, Sys>> commands(Model m) {
            Gen<Integer> seed = Gens.ints(0, 1 << 16);
            Gen<Integer> fork = Gens.ints(1, MAX_OPEN - 1);
            return Gens.choose(
                    seed.map(DecodeStep::new),
                    seed.map(DecodeStep::new),
                    Gens.constant(0).map(x -> new CompactRoot()),
                    Gens.constant(0).map(x -> new Fork()),
                    Gens.zip(fork, Gens.ints(0, 3), seed, ForkOp::new),
                    Gens.zip(Gens.ints(0, MAX_OPEN - 1), seed, Overwrite::new),
                    fork.map(CloseFork::new),
                    Gens.constant(0).map(x -> new PrefixHit()));
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

    /** Root: append a token, write its K/V, show the policy its keys or attention, let it evict. */
    static final class DecodeStep implements Command<Model, Sys> {
        final int seed;
        String result = "";

        DecodeStep(int seed) {
            this.seed = seed;
        }

        @Override
        public void run(Model m, Sys sys) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int pos = m.nextPosition++;
            int slot = sys.root.append(pos);
            write(sys.open.get(0), m.seqs.get(0), slot, pos, rnd, sys.root.policy());
            EvictionPolicy p = sys.root.policy();
            if (p.usesAttention()) {
                float[] row = new float[sys.open.get(0).slots()];
                for (int s = 0; s < row.length; s++) {
                    row[s] = sys.open.get(0).positionOf(s) >= 0 ? rnd.nextInt(4) / 4f : 0f;
                }
                p.onAttention(row, row.length);
            }
            int n = sys.root.evict();
            resyncRoot(m, sys);
            assertTrue(p.liveTokens() <= p.budget() + p.quantum() - 1, "budget bound");
            result = "pos=" + pos + " slot=" + slot + " evicted=" + n;
        }

        @Override
        public String toString() {
            return "decode(" + seed + ") " + result;
        }
    }

    /** Root: release all-hole blocks, then tail-fill; at most one move per hole. */
    static final class CompactRoot implements Command<Model, Sys> {
        String result = "";

        @Override
        public void run(Model m, Sys sys) {
            int holes = sys.open.get(0).holes();
            int moves = sys.root.compact();
            resyncRoot(m, sys);
            assertTrue(moves <= holes, "moves " + moves + " > holes " + holes);
            assertEquals(0, sys.open.get(0).holes());
            result = " -> " + moves + " moves";
        }

        @Override
        public String toString() {
            return "compactRoot()" + result;
        }
    }

    /** Fork the root (shares every block). */
    static final class Fork implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            sys.open.add(sys.open.get(0).fork());
            m.seqs.add(m.seqs.get(0).copy());
        }

        @Override
        public String toString() {
            return "fork()";
        }
    }

    /** On a fork, by hand: append+write (slot reuse), evict a slot, compact, or release empty blocks. */
    record ForkOp(int index, int kind, int seed) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.seqs.size();
        }

        @Override
        public void run(Model m, Sys sys) {
            EvictingSequence e = sys.open.get(index);
            SeqModel sm = m.seqs.get(index);
            SplittableRandom rnd = new SplittableRandom(seed);
            switch (kind) {
                case 0 -> {
                    int pos = m.nextPosition++;
                    write(e, sm, e.append(pos), pos, rnd, null);
                }
                case 1 -> {
                    if (!sm.position.isEmpty()) {
                        List<Integer> slots = new ArrayList<>(sm.position.keySet());
                        int slot = slots.get(rnd.nextInt(slots.size()));
                        e.evict(slot);
                        sm.position.remove(slot);
                        sm.kv.remove(slot);
                    }
                }
                case 2 -> {
                    int holes = e.holes();
                    assertTrue(e.compact(sm::move) <= holes, "at most one move per hole");
                }
                default -> e.releaseEmptyBlocks(sm::move);
            }
        }

        @Override
        public String toString() {
            return "fork" + index + "." + List.of("append", "evict", "compact", "release").get(kind) + "(" + seed + ")";
        }
    }

    /** Overwrite the K/V of a kept token (copy-on-write if its block is shared). */
    record Overwrite(int index, int seed) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.seqs.size() && !m.seqs.get(index).position.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            SeqModel sm = m.seqs.get(index);
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Integer> slots = new ArrayList<>(sm.position.keySet());
            int slot = slots.get(rnd.nextInt(slots.size()));
            write(sys.open.get(index), sm, slot, sm.position.get(slot), rnd, null);
        }

        @Override
        public String toString() {
            return "overwrite(seq " + index + ", " + seed + ")";
        }
    }

    /** A new request hits the donor's cached prefix: an evicting sequence over the shared blocks. */
    static final class PrefixHit implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            var seq = sys.cache.openSequence(PROMPT);
            assertEquals(2 * BLOCK, seq.reusedTokens(), "the two committed blocks are reused");
            EvictingSequence e = new EvictingSequence(seq);
            SeqModel sm = new SeqModel();
            for (int p = 0; p < 2 * BLOCK; p++) {
                sm.position.put(p, p);
                sm.kv.put(p, prefixKv(p));
            }
            sys.open.add(e);
            m.seqs.add(sm);
        }

        @Override
        public String toString() {
            return "prefixHit()";
        }
    }

    /** Close a fork: its exclusive blocks go back to the pool, shared ones stay with the others. */
    record CloseFork(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.seqs.size();
        }

        @Override
        public void run(Model m, Sys sys) {
            sys.open.remove(index).close();
            m.seqs.remove(index);
        }

        @Override
        public String toString() {
            return "close(fork " + index + ")";
        }
    }

    static void write(EvictingSequence e, SeqModel sm, int slot, int pos, SplittableRandom rnd, EvictionPolicy keysTo) {
        float[][] kv = new float[2 * LAYERS][WIDTH];
        for (int l = 0; l < LAYERS; l++) {
            for (int i = 0; i < WIDTH; i++) {
                kv[2 * l][i] = (float) rnd.nextGaussian();
                kv[2 * l + 1][i] = (float) rnd.nextGaussian();
            }
            e.sequence().write(l, slot, kv[2 * l], kv[2 * l + 1]);
            if (keysTo != null && keysTo.usesKeys()) {
                keysTo.onKey(slot, kv[2 * l], 0, WIDTH);
            }
        }
        sm.position.put(slot, pos);
        sm.kv.put(slot, kv);
    }

    /**
     * The policy decides what the root keeps, so the model follows the system's slot map, checking
     * that it only ever holds positions the model knew (with their K/V, checked by the invariants) and
     * that the policy and the sequence agree on every slot.
     */
    static void resyncRoot(Model m, Sys sys) {
        EvictingSequence root = sys.open.get(0);
        EvictionPolicy p = sys.root.policy();
        SeqModel sm = m.seqs.get(0);
        Map<Integer, float[][]> kvByPos = new HashMap<>();
        sm.position.forEach((slot, pos) -> kvByPos.put(pos, sm.kv.get(slot)));
        sm.position.clear();
        sm.kv.clear();
        for (int s = 0; s < root.slots(); s++) {
            int pos = root.positionOf(s);
            assertEquals(pos, p.positionOf(s), "policy and sequence agree on slot " + s);
            if (pos >= 0) {
                assertTrue(kvByPos.containsKey(pos), "position " + pos + " appeared from nowhere");
                sm.position.put(s, pos);
                sm.kv.put(s, kvByPos.get(pos));
            }
        }
        assertEquals(p.liveTokens(), root.liveTokens(), "live tokens of policy and sequence");
    }

    static void check(Sys sys, Model m) {
        Map<Integer, Integer> namedBy = new HashMap<>();
        float[] got = new float[4];
        assertEquals(m.seqs.size(), sys.open.size());
        for (int i = 0; i < sys.open.size(); i++) {
            EvictingSequence e = sys.open.get(i);
            SeqModel sm = m.seqs.get(i);
            int live = 0;
            for (int s = 0; s < e.slots(); s++) {
                Integer want = sm.position.get(s);
                assertEquals(want == null ? EvictingSequence.HOLE : want, e.positionOf(s), "seq " + i + " position of slot " + s);
                if (want != null) {
                    live++;
                    float[][] kv = sm.kv.get(s);
                    for (int l = 0; l < LAYERS; l++) {
                        for (int h = 0; h < 2; h++) {
                            e.sequence().readKey(l, h, s, got, 0);
                            assertArrayEquals(Arrays.copyOfRange(kv[2 * l], h * 4, h * 4 + 4), got,
                                    "seq " + i + " key of slot " + s + " position " + want + " layer " + l + " head " + h);
                            e.sequence().readValue(l, h, s, got, 0);
                            assertArrayEquals(Arrays.copyOfRange(kv[2 * l + 1], h * 4, h * 4 + 4), got,
                                    "seq " + i + " value of slot " + s + " position " + want);
                        }
                    }
                }
            }
            assertEquals(sm.position.size(), live, "seq " + i + ": the model has slots beyond the sequence");
            assertEquals(live, e.liveTokens(), "seq " + i + " live tokens");
            int blocks = e.sequence().blockCount();
            assertEquals((e.slots() + BLOCK - 1) / BLOCK, blocks, "block count covers the slots exactly");
            for (int b = 0; b < blocks; b++) {
                namedBy.merge(e.sequence().blockId(b), 1, Integer::sum);
            }
        }
        BlockPoolView pool = sys.cache.pool();
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
        Stateful.of(new Machine(() -> new SlidingWindow(6))).steps(60).tries(60).check();
    }

    @Test
    void blockGranularSinksReleaseWholeBlocksAndKeepKvPositionsAndBlocks() {
        Stateful.of(new Machine(() -> new AttentionSinks(2, 5, BLOCK))).steps(60).tries(60).check();
    }

    @Test
    void heavyHittersKeepKvPositionsAndBlocksThroughEvictionForksAndCompaction() {
        Stateful.of(new Machine(() -> new HeavyHitters(3, 3, HeavyHitters.Accumulation.SUM))).steps(60).tries(60).check();
    }

    @Test
    void keyNormKeepsKvPositionsAndBlocksThroughEvictionForksAndCompaction() {
        Stateful.of(new Machine(() -> new KeyNorm(7, 1, 2))).steps(60).tries(60).check();
    }
}
