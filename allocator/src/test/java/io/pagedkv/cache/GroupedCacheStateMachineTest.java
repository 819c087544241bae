package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A two-group cache (a sliding group over a {@value #WINDOW}-token window + a global group, Gemma-2
 * style alternation over 4 layers) under random actions (testkit stateful): open empty, open with a
 * prompt (prefix hits), decode steps of 1..5 tokens (append, write every layer, release outside the
 * window), fork, commit, close, until the pool runs short. Invariants after every action:
 * <ul>
 *   <li>conservation per group: the distinct blocks named by group {@code g}'s tables are exactly
 *       {@code usedBlocks(g)} blocks, all recorded as group {@code g}'s; no block serves two groups;
 *       {@code free + sum(used(g) + cached(g)) == total};</li>
 *   <li>the window bound: every sequence's sliding group holds at most
 *       {@code ceil(window / blockSize) + 1} blocks, and exactly the blocks from the first one the
 *       next token's window touches; the global group holds all {@code ceil(length / blockSize)};</li>
 *   <li>every sequence reads back its own K/V in every model layer at every position its groups
 *       still hold (a prefix hit never hands one group another group's block), and a released
 *       position throws;</li>
 *   <li>a refused append (the pool short) changes nothing: no group appended, the same tables and
 *       the same free, used and cached counts.</li>
 * </ul>
 */
class GroupedCacheStateMachineTest {

    static final int WINDOW = 6;
    static final int BLOCK = 4;
    static final int BLOCKS = 14;
    static final ModelShape SHAPE = new ModelShape("two-group", 4, 2, 1, 8, WINDOW,
            AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    static final CacheLayout MODEL = new CacheLayout(SHAPE, KvDType.F32, BLOCK);
    static final LayerGroups GROUPS = LayerGroups.of(SHAPE);
    static final int SLIDING = 0;
    static final int GLOBAL = 1;
    static final int[][] PROMPTS = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9},
        {1, 2, 3, 4, 50, 60, 70, 80, 90, 91},
        {11, 12, 13, 14, 15},
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, // longer than the window; shares 9 with prompt 0
    };

    static final class Model {
        final Map<Integer, List<Integer>> seqs = new LinkedHashMap<>();
        int nextKey;
    }

    /** Over the whole test: refused appends, prefix hits, and sliding blocks released. */
    static final AtomicLong REFUSALS = new AtomicLong();
    static final AtomicLong HITS = new AtomicLong();
    static final AtomicLong SLID = new AtomicLong();
    /** Hits longer than the sliding group's cached chain from block 0: only vLLM's window rule gives them. */
    static final AtomicLong WINDOW_HITS = new AtomicLong();

    static final class Sut {
        final GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, BLOCKS);
        final Map<Integer, GroupedSequence> seqs = new HashMap<>();
    }

    /** K/V of model layer {@code layer} at position {@code p}: depends on the whole token prefix and the layer. */
    static float[] kv(List<Integer> tokens, int p, int layer, int kvIndex) {
        int salt = Math.floorMod(tokens.subList(0, p + 1).hashCode(), 997);
        float[] v = new float[SHAPE.kvHeads() * SHAPE.headDim()];
        for (int i = 0; i < v.length; i++) {
            v[i] = salt * 100 + layer * 10 + kvIndex * 5 + i;
        }
        return v;
    }

    /** The first model position the sliding group must still hold for a sequence of {@code length} tokens. */
    static int expectedFirst(int length) {
        int keepFrom = Math.max(0, length - WINDOW + 1);
        return keepFrom / BLOCK * BLOCK;
    }

    /** Appends {@code more}, writes every layer and releases outside the window; a refusal changes nothing. */
    static boolean step(Model model, Sut sut, GroupedSequence s, List<Integer> tokens, int[] more) {
        State before = State.of(sut);
        boolean ok = s.tryAppendTokens(more, 0, more.length);
        if (!ok) {
            REFUSALS.incrementAndGet();
            assertEquals(before, State.of(sut), "a refused append changes nothing");
            return false;
        }
        int from = tokens.size();
        for (int t : more) {
            tokens.add(t);
        }
        for (int p = from; p < tokens.size(); p++) {
            for (int l = 0; l < SHAPE.layers(); l++) {
                s.write(l, p, kv(tokens, p, l, 0), kv(tokens, p, l, 1));
            }
        }
        s.releaseOutsideWindow();
        if (s.firstPosition(SLIDING) > 0) {
            SLID.incrementAndGet();
        }
        return true;
    }

    /** What a refused append must leave exactly as it was. */
    record State(int free, int cached, List<Integer> used, Map<Integer, String> tables) {
        static State of(Sut sut) {
            List<Integer> used = new ArrayList<>();
            for (int g = 0; g < GROUPS.groupCount(); g++) {
                used.add(sut.cache.usedBlocks(g));
            }
            Map<Integer, String> tables = new HashMap<>();
            for (var e : sut.seqs.entrySet()) {
                StringBuilder b = new StringBuilder().append(e.getValue().length());
                for (int g = 0; g < GROUPS.groupCount(); g++) {
                    int[] t = new int[e.getValue().blockCount(g)];
                    e.getValue().copyBlockTable(g, t);
                    b.append(' ').append(e.getValue().firstPosition(g)).append(Arrays.toString(t));
                }
                tables.put(e.getKey(), b.toString());
            }
            return new State(sut.cache.freeBlocks(), sut.cache.cachedBlocks(), used, tables);
        }
    }

    record OpenPrompt(int prompt, int extra) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            int[] p = Arrays.copyOf(PROMPTS[prompt], PROMPTS[prompt].length + 1);
            p[p.length - 1] = 100 + extra;
            int fromBlock0 = sut.cache.group(SLIDING).probePrefix(p, p.length, PrefixKeys.NONE).tokens();
            State before = State.of(sut);
            PrefixProbe probe = sut.cache.probePrefix(p, p.length, PrefixKeys.NONE);
            assertEquals(before, State.of(sut), "a probe changes nothing");
            GroupedSequence s = sut.cache.openSequence(p);
            int reused = s.reusedTokens();
            assertEquals(probe.tokens(), reused, "the open reuses what the probe counted");
            assertTrue(reused % BLOCK == 0 && reused < p.length, "reused " + reused);
            assertEquals(reused, s.length());
            int windowFrom = Math.max(0, reused - WINDOW + 1) / BLOCK * BLOCK;
            assertEquals(windowFrom, s.firstPosition(SLIDING), "the sliding group opens from the hit's window");
            assertEquals(reused / BLOCK - windowFrom / BLOCK, s.blockCount(SLIDING), "the window's blocks, no more");
            assertEquals(reused / BLOCK, s.blockCount(GLOBAL), "every block of the hit in the global group");
            assertEquals(probe.blocks(), s.blockCount(SLIDING) + s.blockCount(GLOBAL));
            if (reused > 0) {
                HITS.incrementAndGet();
            }
            if (reused > fromBlock0) {
                WINDOW_HITS.incrementAndGet();
            }
            List<Integer> tokens = new ArrayList<>();
            for (int i = 0; i < reused; i++) {
                tokens.add(p[i]);
            }
            int key = model.nextKey++;
            model.seqs.put(key, tokens);
            sut.seqs.put(key, s);
            for (int at = reused; at < p.length; at += BLOCK) { // a chunked prefill: the window slides between chunks
                if (!step(model, sut, s, tokens, Arrays.copyOfRange(p, at, Math.min(p.length, at + BLOCK)))) {
                    break;
                }
                s.commitPrefix();
            }
        }

        @Override
        public String toString() {
            return "open(prompt " + prompt + " + " + (100 + extra) + ")";
        }
    }

    record OpenEmpty() implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            int key = model.nextKey++;
            model.seqs.put(key, new ArrayList<>());
            sut.seqs.put(key, sut.cache.openSequence());
        }

        @Override
        public String toString() {
            return "open()";
        }
    }

    record Decode(int key, int[] more) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            step(model, sut, sut.seqs.get(key), model.seqs.get(key), more);
        }

        @Override
        public String toString() {
            return "decode(s" + key + ", " + Arrays.toString(more) + ")";
        }
    }

    record Commit(int key) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            sut.seqs.get(key).commitPrefix();
        }

        @Override
        public String toString() {
            return "commit(s" + key + ")";
        }
    }

    record Fork(int key) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            int child = model.nextKey++;
            model.seqs.put(child, new ArrayList<>(model.seqs.get(key)));
            sut.seqs.put(child, sut.seqs.get(key).fork());
        }

        @Override
        public String toString() {
            return "fork(s" + key + ")";
        }
    }

    record Close(int key) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            model.seqs.remove(key);
            sut.seqs.remove(key).close();
        }

        @Override
        public String toString() {
            return "close(s" + key + ")";
        }
    }

    record Machine() implements StateMachine<Model, Sut> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sut newSystem() {
            return new Sut();
        }

        @Override
        public Gen<Command<Model, Sut>> commands(Model m) {
            Gen<Command<Model, Sut>> open = Gens.zip(Gens.ints(0, PROMPTS.length - 1), Gens.ints(0, 3), OpenPrompt::new);
            Gen<Command<Model, Sut>> empty = in -> new OpenEmpty();
            if (m.seqs.isEmpty()) {
                return Gens.choose(open, empty);
            }
            Gen<Integer> key = Gens.elements(List.copyOf(m.seqs.keySet()));
            Gen<Command<Model, Sut>> decode = Gens.zip(key, Gens.intArrays(Gens.ints(200, 299), 1, 5), Decode::new);
            return Gens.frequency(6, decode, 2, Gens.choose(open, empty, key.map(Commit::new)), 2,
                    Gens.choose(key.map(Fork::new), key.map(Close::new)));
        }

        @Override
        public void invariants(Model m, Sut sut) {
            GroupedKvCache c = sut.cache;
            List<Set<Integer>> held = new ArrayList<>();
            for (int g = 0; g < GROUPS.groupCount(); g++) {
                held.add(new HashSet<>());
            }
            int bound = GROUPS.maxWindowBlocks(SLIDING, BLOCK);
            for (var e : m.seqs.entrySet()) {
                GroupedSequence s = sut.seqs.get(e.getKey());
                List<Integer> tokens = e.getValue();
                int len = tokens.size();
                assertEquals(len, s.length(), "length of s" + e.getKey());
                assertEquals(0, s.firstPosition(GLOBAL), "the global group releases nothing");
                assertEquals((len + BLOCK - 1) / BLOCK, s.blockCount(GLOBAL), "global blocks of s" + e.getKey());
                int first = expectedFirst(len);
                assertEquals(first, s.firstPosition(SLIDING), "first position the sliding group holds, s" + e.getKey());
                assertEquals((len - first + BLOCK - 1) / BLOCK, s.blockCount(SLIDING), "sliding blocks of s" + e.getKey());
                assertTrue(s.blockCount(SLIDING) <= bound, "sliding blocks " + s.blockCount(SLIDING)
                        + " > ceil(window / blockSize) + 1 = " + bound + " for s" + e.getKey());
                for (int g = 0; g < GROUPS.groupCount(); g++) {
                    for (int i = 0; i < s.blockCount(g); i++) {
                        int id = s.blockId(g, i);
                        assertEquals(g, c.groupOfBlock(id), "block " + id + " of group " + g);
                        held.get(g).add(id);
                    }
                }
                float[] got = new float[SHAPE.headDim()];
                for (int l = 0; l < SHAPE.layers(); l++) {
                    int g = GROUPS.groupOf(l);
                    for (int p = s.firstPosition(g); p < len; p++) {
                        for (int kv = 0; kv < 2; kv++) {
                            float[] want = kv(tokens, p, l, kv);
                            for (int h = 0; h < SHAPE.kvHeads(); h++) {
                                if (kv == 0) {
                                    s.readKey(l, h, p, got, 0);
                                } else {
                                    s.readValue(l, h, p, got, 0);
                                }
                                assertArrayEquals(Arrays.copyOfRange(want, h * SHAPE.headDim(), (h + 1) * SHAPE.headDim()),
                                        got, "s" + e.getKey() + " layer " + l + " position " + p + (kv == 0 ? " K" : " V"));
                            }
                        }
                    }
                }
                if (first > 0) {
                    assertThrows(IllegalStateException.class, () -> s.readKey(0, 0, first - 1, got, 0));
                }
            }
            Set<Integer> both = new HashSet<>(held.get(SLIDING));
            both.retainAll(held.get(GLOBAL));
            assertTrue(both.isEmpty(), "blocks in both groups: " + both);
            int sum = c.freeBlocks();
            for (int g = 0; g < GROUPS.groupCount(); g++) {
                assertEquals(held.get(g).size(), c.usedBlocks(g), "used blocks of group " + g);
                sum += c.usedBlocks(g) + c.cachedBlocks(g);
            }
            assertEquals(c.cachedBlocks(), c.cachedBlocks(SLIDING) + c.cachedBlocks(GLOBAL), "cached by group");
            assertEquals(BLOCKS, sum, "free + used + cached over the groups");
        }

        @Override
        public void close(Sut sut) {
            sut.cache.close();
        }
    }

    @Test
    void aTwoGroupCacheConservesBlocksPerGroupAndBoundsTheWindowGroup() {
        Stateful.of(new Machine()).steps(60).tries(300).check();
        assertTrue(REFUSALS.get() > 0 && HITS.get() > 0 && SLID.get() > 0 && WINDOW_HITS.get() > 0,
                "the runs reached a short pool, prefix hits, window releases and hits only the window rule gives: "
                        + REFUSALS + ", " + HITS + ", " + SLID + ", " + WINDOW_HITS);
    }

    @Test
    void aDecodeStepThatFreesAWindowBlockFitsInAFullPool() {
        // 2 blocks: one per group; the 5th token needs a new block in each group, the sliding group
        // (window 1) frees its first block, so exactly one free block is missing and the release covers it.
        ModelShape shape = new ModelShape("w1", 2, 1, 1, 8, 1, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        CacheLayout model = new CacheLayout(shape, KvDType.F32, BLOCK);
        try (GroupedKvCache c = new GroupedKvCache(model, LayerGroups.of(shape), 3)) {
            GroupedSequence s = c.openSequence();
            assertTrue(s.tryAppend(4));
            assertEquals(1, c.freeBlocks());
            assertTrue(s.tryAppend(1), "the sliding group's dead block pays for the new one");
            assertEquals(4, s.firstPosition(0));
            assertEquals(1, s.blockCount(0));
            assertEquals(2, s.blockCount(1));
            assertEquals(0, c.freeBlocks());
            assertTrue(!s.tryAppend(4), "the global group needs a block that no release frees");
            assertEquals(5, s.length());
            assertEquals(0, c.freeBlocks());
        }
    }
}
