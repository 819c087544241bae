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
import java.util.concurrent.atomic.AtomicLong;
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

    /** The system: the cache (small chunks, faults injectable) and its sequences by key. */
    static final class Sut {
        final NthCallFaults faults = new NthCallFaults();
        final PagedKvCache cache = PagedKvCache.builder(LAYOUT, BLOCKS).codec(KvCodecs.of(LAYOUT.dtype()))
                .hasher(COLLIDING).blocksPerChunk(2).faults(faults).build();
        final Map<Integer, Sequence> seqs = new HashMap<>();
    }

    /** No fault, the next pool allocation call fails, the next chunk commit fails. */
    static final int NO_FAULT = 0;
    static final int ALLOCATION_FAULT = 1;
    static final int CHUNK_FAULT = 2;

    /** Faults that fired on an append that needed to reclaim cached blocks, over the whole test. */
    static final AtomicLong FAULTED_RECLAIMS = new AtomicLong();
    /** Faults that fired on an append served from free blocks. */
    static final AtomicLong FAULTED_APPENDS = new AtomicLong();

    static int salt(List<Integer> tokens, int p) {
        return Math.floorMod(tokens.subList(0, p + 1).hashCode(), 997);
    }

    static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Appends {@code more} with ids, writes their K/V and commits; a failed append must change nothing
     * (in particular it reclaims no cached block). With a fault armed, the append fails exactly when
     * the fault fired.
     */
    static boolean extend(Sut sut, Sequence s, List<Integer> tokens, int[] more, int fault) {
        CacheSnapshot before = CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values()));
        boolean fits = sut.cache.canAppend(s, more.length);
        boolean reclaims = s.blocksToAppend(more.length) > sut.cache.freeBlocks();
        long injected = sut.faults.injectedFailures();
        if (fault == ALLOCATION_FAULT) {
            sut.faults.failNthAllocation(1);
        } else if (fault == CHUNK_FAULT) {
            sut.faults.failNthChunkCommit(1);
        }
        boolean ok = s.tryAppendTokens(more, 0, more.length);
        sut.faults.failNthAllocation(0).failNthChunkCommit(0);
        boolean fired = sut.faults.injectedFailures() > injected;
        if (fired) {
            (reclaims ? FAULTED_RECLAIMS : FAULTED_APPENDS).incrementAndGet();
        }
        assertEquals(fits && !fired, ok, "tryAppendTokens succeeds exactly when it fits and no fault fired");
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

    record OpenPrompt(int prefix, int[] suffix, int fault) implements Command<Model, Sut> {
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
            extend(sut, s, tokens, Arrays.copyOfRange(prompt, reused, prompt.length), fault);
        }

        @Override
        public String toString() {
            return "open(prefix " + prefix + " + " + Arrays.toString(suffix) + faultName(fault) + ")";
        }
    }

    static String faultName(int fault) {
        return fault == ALLOCATION_FAULT ? ", allocation fails" : fault == CHUNK_FAULT ? ", chunk commit fails" : "";
    }

    record Decode(int key, int[] more, int fault) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.seqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            extend(sut, sut.seqs.get(key), model.seqs.get(key), more, fault);
        }

        @Override
        public String toString() {
            return "decode(s" + key + ", " + Arrays.toString(more) + faultName(fault) + ")";
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

    /**
     * When some blocks are free and some cached: a request for one block more than is free, with the
     * pool's share failing (an injected fault), must fail and reclaim nothing; without the fault the
     * same request reclaims the oldest cached block. The new sequence is closed again.
     */
    record FaultyReclaim(boolean chunk) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            CacheStats st = sut.cache.stats();
            if (st.freeBlocks() == 0 || st.cachedBlocks() == 0) {
                return;
            }
            Sequence s = sut.cache.openSequence();
            int tokens = (st.freeBlocks() + 1) * LAYOUT.blockSize();
            CacheSnapshot before = CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values()));
            long injected = sut.faults.injectedFailures();
            if (chunk) {
                sut.faults.failNthChunkCommit(1);
            } else {
                sut.faults.failNthAllocation(1);
            }
            boolean ok = s.tryAppend(tokens);
            sut.faults.failNthAllocation(0).failNthChunkCommit(0);
            boolean fired = sut.faults.injectedFailures() > injected;
            assertEquals(!fired, ok, "fails exactly when the fault fired");
            if (fired) {
                FAULTED_RECLAIMS.incrementAndGet();
                before.assertUnchanged(CacheSnapshot.of(sut.cache, new ArrayList<>(sut.seqs.values())));
                assertTrue(s.tryAppend(tokens), "without the fault it fits");
            }
            // the oldest cached entry was reclaimed (with any cached descendants, unlinked to the free list)
            assertTrue(sut.cache.stats().cachedBlocks() < st.cachedBlocks(), "a cached block was reclaimed");
            s.close();
        }

        @Override
        public String toString() {
            return "reclaim one block with the " + (chunk ? "chunk commit" : "allocation") + " failing";
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
            Gen<Integer> fault = Gens.frequency(4, Gens.constant(NO_FAULT), 1, Gens.ints(ALLOCATION_FAULT, CHUNK_FAULT));
            Gen<Command<Model, Sut>> open = Gens.zip(Gens.ints(0, PREFIXES.length - 1), suffix, fault, OpenPrompt::new);
            if (model.seqs.isEmpty()) {
                return open;
            }
            Gen<Integer> key = Gens.elements(new ArrayList<>(model.seqs.keySet()));
            Gen<Command<Model, Sut>> decode = Gens.zip(key,
                    Gens.lists(Gens.ints(90, 92), 1, 5).map(PrefixStateMachineTest::ints), fault, Decode::new);
            Gen<Command<Model, Sut>> fork = key.map(Fork::new);
            Gen<Command<Model, Sut>> close = key.map(Close::new);
            Gen<Command<Model, Sut>> exhaust = Gens.constant(new Exhaust());
            Gen<Command<Model, Sut>> faultyReclaim = Gens.booleans().map(FaultyReclaim::new);
            return Gens.choose(open, open, decode, close, close, fork, exhaust, faultyReclaim);
        }

        @Override
        public void invariants(Model model, Sut sut) {
            BlockPool pool = sut.cache.blockPool();
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
    void prefixReuseKeepsConservationOwnReadbackAndVerifiedTokensAlsoWhenAllocationsFail() {
        long reclaims = FAULTED_RECLAIMS.get();
        long appends = FAULTED_APPENDS.get();
        Stateful.of(new Machine()).steps(40).tries(50).check();
        assertTrue(FAULTED_RECLAIMS.get() > reclaims, "a fault hit an append that had to reclaim cached blocks");
        assertTrue(FAULTED_APPENDS.get() > appends, "a fault hit an append served from free blocks");
    }
}
