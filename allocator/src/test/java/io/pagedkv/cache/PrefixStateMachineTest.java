package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.CacheSnapshot;
import io.pagedkv.cache.model.KvPattern;
import io.pagedkv.dtype.KvCodecs;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Prefix caching under random actions (testkit stateful): prompts drawn from a few shared prefixes
 * plus short suffixes, open / decode / fork / close / exhaust-the-pool. After every action:
 * conservation ({@code free + used + cached = total}, each counted from the blocks themselves),
 * every block's reference count is its sequences plus the index, every sequence reads back its own
 * tokens' K/V (which depend on the whole prefix, as real K/V do), and every indexed block a sequence
 * holds was cached for exactly that sequence's token ids (a hit never returns other tokens), under a
 * hash that collides on almost every lookup. A failed append changes nothing.
 */
class PrefixStateMachineTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);
    static final int BLOCKS = 12;
    static final int[][] PREFIXES = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9},
        {1, 2, 3, 4, 50, 60, 70, 80},
        {11, 12, 13, 14, 15, 16},
    };

    /** The model: token ids of each open sequence, by key. */
    static final class Model {
        final Map<Integer, List<Integer>> seqs = new LinkedHashMap<>();
        int nextKey;
    }

    /**
     * A deliberately weak hash (8 values, ignores all but the first token of a block): collisions on
     * almost every lookup, so only the token-id verification keeps prompts apart.
     */
    static final PrefixHasher COLLIDING = (parent, tokens, from, count, extra) -> (parent ^ tokens[from]) & 7;

    /** The system: the cache and its sequences by key. */
    static final class Sut {
        final PagedKvCache cache = new PagedKvCache(LAYOUT, BLOCKS, KvCodecs.of(LAYOUT.dtype()), COLLIDING);
        final Map<Integer, Sequence> seqs = new HashMap<>();
    }

    static int salt(List<Integer> tokens, int p) {
        return Math.floorMod(tokens.subList(0, p + 1).hashCode(), 997);
    }

    static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Appends {@code more} with ids, writes their K/V and commits; a failed append must change nothing. */
    static boolean extend(Sut sut, Sequence s, List<Integer> tokens, int[] more) {
        CacheSnapshot before = CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values()));
        boolean fits = sut.cache.canAppend(s, more.length);
        boolean ok = s.tryAppendTokens(more, 0, more.length);
        assertEquals(fits, ok, "canAppend agrees with tryAppendTokens");
        if (!ok) {
            before.assertUnchanged(CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values())));
            return false;
        }
        int from = tokens.size();
        for (int t : more) {
            tokens.add(t);
        }
        for (int p = from; p < tokens.size(); p++) {
            KvPattern.writeToken(s, salt(tokens, p), p);
        }
        s.commitPrefix();
        return true;
    }

    record OpenPrompt(int prefix, int[] suffix) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            int[] base = PREFIXES[prefix];
            int[] prompt = Arrays.copyOf(base, base.length + suffix.length);
            System.arraycopy(suffix, 0, prompt, base.length, suffix.length);
            Sequence s = sut.cache.openSequence(prompt);
            int reused = s.reusedTokens();
            assertTrue(reused % LAYOUT.blockSize() == 0 && reused <= prompt.length - 1, "reused " + reused);
            List<Integer> tokens = new ArrayList<>();
            for (int i = 0; i < reused; i++) {
                tokens.add(prompt[i]);
            }
            int key = model.nextKey++;
            model.seqs.put(key, tokens);
            sut.seqs.put(key, s);
            extend(sut, s, tokens, Arrays.copyOfRange(prompt, reused, prompt.length));
        }

        @Override
        public String toString() {
            return "open(prefix " + prefix + " + " + Arrays.toString(suffix) + ")";
        }
    }

    record Decode(int key, int[] more) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            extend(sut, sut.seqs.get(key), model.seqs.get(key), more);
        }

        @Override
        public String toString() {
            return "decode(s" + key + ", " + Arrays.toString(more) + ")";
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

    /** Opens a plain sequence and appends all that fits (reclaiming every cached block), then one more fails. */
    record Exhaust() implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            Sequence s = sut.cache.openSequence();
            CacheStats st = sut.cache.stats();
            int room = (st.freeBlocks() + st.cachedBlocks()) * LAYOUT.blockSize();
            if (room > 0) {
                assertTrue(s.tryAppend(room), "free + cached blocks must all be usable: " + st);
            }
            assertEquals(0, sut.cache.stats().cachedBlocks());
            assertEquals(0, sut.cache.stats().freeBlocks());
            CacheSnapshot before = CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values()));
            assertFalse(s.tryAppend(1));
            before.assertUnchanged(CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values())));
            s.close();
        }

        @Override
        public String toString() {
            return "exhaust()";
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
            Gen<int[]> suffix = Gens.lists(Gens.ints(90, 92), 0, 6).map(PrefixStateMachineTest::ints);
            Gen<Command<Model, Sut>> open = Gens.zip(Gens.ints(0, PREFIXES.length - 1), suffix, OpenPrompt::new);
            if (model.seqs.isEmpty()) {
                return open;
            }
            Gen<Integer> key = Gens.elements(new ArrayList<>(model.seqs.keySet()));
            Gen<Command<Model, Sut>> decode = Gens.zip(key,
                    Gens.lists(Gens.ints(90, 92), 1, 5).map(PrefixStateMachineTest::ints), Decode::new);
            Gen<Command<Model, Sut>> fork = key.map(Fork::new);
            Gen<Command<Model, Sut>> close = key.map(Close::new);
            Gen<Command<Model, Sut>> exhaust = Gens.constant(new Exhaust());
            return Gens.choose(open, open, decode, close, close, fork, exhaust);
        }

        @Override
        public void invariants(Model model, Sut sut) {
            BlockPool pool = sut.cache.pool();
            PrefixCache prefix = sut.cache.prefix();
            int[] seqRefs = new int[BLOCKS];
            for (Map.Entry<Integer, List<Integer>> e : model.seqs.entrySet()) {
                Sequence s = sut.seqs.get(e.getKey());
                List<Integer> tokens = e.getValue();
                assertEquals(tokens.size(), s.length(), "length of s" + e.getKey());
                for (int i = 0; i < s.blockCount(); i++) {
                    int id = s.blockId(i);
                    seqRefs[id]++;
                    int[] cachedFor = prefix.tokensOf(id);
                    if (cachedFor != null) {
                        int[] mine = ints(tokens.subList(i * LAYOUT.blockSize(), (i + 1) * LAYOUT.blockSize()));
                        assertArrayEquals(cachedFor, mine, "s" + e.getKey() + " holds block " + id + " cached for other tokens");
                    }
                }
                for (int p = 0; p < tokens.size(); p++) {
                    KvPattern.assertToken(s, salt(tokens, p), p);
                }
            }
            int free = 0;
            int used = 0;
            int cached = 0;
            for (int id = 0; id < BLOCKS; id++) {
                int index = prefix.isIndexed(id) ? 1 : 0;
                assertEquals(seqRefs[id] + index, pool.refCount(id), "refCount of block " + id);
                if (pool.refCount(id) == 0) {
                    free++;
                } else if (seqRefs[id] == 0) {
                    cached++;
                } else {
                    used++;
                }
            }
            CacheStats st = sut.cache.stats();
            assertEquals(BLOCKS, free + used + cached);
            assertEquals(free, st.freeBlocks(), "free");
            assertEquals(used, st.usedBlocks(), "used");
            assertEquals(cached, st.cachedBlocks(), "cached-unreferenced");
            assertEquals(cached, sut.cache.prefixStats().cachedBlocks());
        }

        @Override
        public void close(Sut sut) {
            sut.cache.close();
        }
    }

    @Test
    void prefixReuseKeepsConservationOwnReadbackAndVerifiedTokens() {
        Stateful.of(new Machine()).steps(40).tries(50).check();
    }
}
