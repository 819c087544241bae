package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 24, Must show 3 (isolation): after every step every free block is filled with a poison
 * pattern, and three tenants (no salt, and two salts) open prompts from shared prefixes, append,
 * write only part of what they appended, commit, fork, truncate and close. Every read a request can
 * make (decoded reads below its written mark, and its zero-copy views) must return exactly its own
 * K/V, which depends on its tenant and its whole token prefix: never the poison, never another
 * tenant's K/V, never a slot reserved but not written. A read past the written mark is refused.
 * The prefix hash collides on almost every lookup, so only the exact checks keep requests apart.
 */
class IsolationStateMachineTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 2, 1, 8);
    static final CacheLayout LAYOUT = new CacheLayout(SHAPE, KvDType.F32, 4);
    static final int BLOCKS = 10;
    static final float POISON = -7777f;
    static final long[] SALTS = {0, 0x5a17L, 0xbeefL};
    static final int[][] PREFIXES = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9},
        {1, 2, 3, 4, 50, 60, 70, 80},
    };
    static final PrefixHasher WEAK = (parent, tokens, from, count, extra) -> (parent ^ tokens[from]) & 3;

    /** A request of the model: its tenant, its token ids and its written mark. */
    static final class Req {
        final int tenant;
        final List<Integer> tokens;
        int written;

        Req(int tenant, List<Integer> tokens, int written) {
            this.tenant = tenant;
            this.tokens = tokens;
            this.written = written;
        }
    }

    static final class Model {
        final Map<Integer, Req> reqs = new LinkedHashMap<>();
        int nextKey;
    }

    static final class Sut {
        final PagedKvCache cache = PagedKvCache.builder(LAYOUT, BLOCKS).hasher(WEAK).blocksPerChunk(3).build();
        final Map<Integer, Sequence> seqs = new HashMap<>();
    }

    /** The K/V a request of {@code tenant} computes at position {@code p}: depends on the tenant and the whole prefix. */
    static float value(int tenant, List<Integer> tokens, int p, int layer, int kv, int i) {
        int salt = Math.floorMod(31 * tenant + tokens.subList(0, p + 1).hashCode(), 97);
        return salt * 100_000f + layer * 10_000 + kv * 5_000 + p * 10 + i * 0.125f; // exact in F32, never negative
    }

    static void writeNext(Sequence s, Req r, int n) {
        float[] k = new float[SHAPE.headDim()];
        float[] v = new float[SHAPE.headDim()];
        int end = Math.min(r.tokens.size(), r.written + n);
        for (int p = r.written; p < end; p++) {
            try {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int i = 0; i < k.length; i++) {
                        k[i] = value(r.tenant, r.tokens, p, l, 0, i);
                        v[i] = value(r.tenant, r.tokens, p, l, 1, i);
                    }
                    s.write(l, p, k, v);
                }
            } catch (PoolExhaustedException e) {
                assertEquals(0, SHAPE.layers() == 0 ? 0 : s.written(0) - p, "a failed copy-on-write wrote nothing");
                return; // the first layer's copy-on-write found the pool empty: nothing written at p
            }
            r.written = p + 1;
        }
    }

    static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    record Open(int tenant, int prefix, int[] suffix, int write) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            int[] base = PREFIXES[prefix];
            int[] prompt = Arrays.copyOf(base, base.length + suffix.length);
            System.arraycopy(suffix, 0, prompt, base.length, suffix.length);
            Sequence s = sut.cache.openSequence(prompt, PrefixKeys.salted(SALTS[tenant]));
            int reused = s.reusedTokens();
            List<Integer> tokens = new ArrayList<>();
            for (int i = 0; i < reused; i++) {
                tokens.add(prompt[i]);
            }
            Req r = new Req(tenant, tokens, reused);
            int key = model.nextKey++;
            model.reqs.put(key, r);
            sut.seqs.put(key, s);
            if (s.tryAppendTokens(prompt, reused, prompt.length - reused)) {
                for (int i = reused; i < prompt.length; i++) {
                    tokens.add(prompt[i]);
                }
                writeNext(s, r, write);
                s.commitPrefix();
            }
        }

        @Override
        public String toString() {
            return "open(tenant " + tenant + ", prefix " + prefix + " + " + Arrays.toString(suffix) + ", write " + write + ")";
        }
    }

    record Decode(int key, int[] more, int write) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.reqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            Req r = model.reqs.get(key);
            Sequence s = sut.seqs.get(key);
            if (s.tryAppendTokens(more, 0, more.length)) {
                for (int t : more) {
                    r.tokens.add(t);
                }
            }
            writeNext(s, r, write);
            s.commitPrefix();
        }

        @Override
        public String toString() {
            return "decode(r" + key + ", " + Arrays.toString(more) + ", write " + write + ")";
        }
    }

    record Fork(int key) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.reqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            Req r = model.reqs.get(key);
            int child = model.nextKey++;
            model.reqs.put(child, new Req(r.tenant, new ArrayList<>(r.tokens), r.written));
            sut.seqs.put(child, sut.seqs.get(key).fork());
        }

        @Override
        public String toString() {
            return "fork(r" + key + ")";
        }
    }

    /** Eviction's truncation: the tail goes, its blocks return (indexed ones to the LRU). */
    record Truncate(int key, int keep) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            Req r = model.reqs.get(key);
            return r != null && keep <= r.tokens.size();
        }

        @Override
        public void run(Model model, Sut sut) {
            Req r = model.reqs.get(key);
            sut.seqs.get(key).truncate(keep);
            r.tokens.subList(keep, r.tokens.size()).clear();
            r.written = Math.min(r.written, keep);
        }

        @Override
        public String toString() {
            return "truncate(r" + key + ", " + keep + ")";
        }
    }

    record Close(int key) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.reqs.containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            model.reqs.remove(key);
            sut.seqs.remove(key).close();
        }

        @Override
        public String toString() {
            return "close(r" + key + ")";
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
            Gen<int[]> suffix = Gens.lists(Gens.ints(90, 91), 0, 5).map(IsolationStateMachineTest::ints);
            Gen<Integer> write = Gens.ints(0, 12);
            Gen<Command<Model, Sut>> open = Gens.zip(Gens.ints(0, SALTS.length - 1), Gens.ints(0, PREFIXES.length - 1),
                    suffix, write, Open::new);
            if (model.reqs.isEmpty()) {
                return open;
            }
            Gen<Integer> key = Gens.elements(new ArrayList<>(model.reqs.keySet()));
            Gen<Command<Model, Sut>> decode = Gens.zip(key,
                    Gens.lists(Gens.ints(90, 91), 1, 4).map(IsolationStateMachineTest::ints), write, Decode::new);
            Gen<Command<Model, Sut>> fork = key.map(Fork::new);
            Gen<Command<Model, Sut>> close = key.map(Close::new);
            Gen<Command<Model, Sut>> truncate = key.flatMap(k -> Gens.ints(0, model.reqs.get(k).tokens.size())
                    .map(keep -> new Truncate(k, keep)));
            return Gens.choose(open, open, open, decode, decode, fork, close, close, truncate);
        }

        @Override
        public void invariants(Model model, Sut sut) {
            BlockPool pool = sut.cache.blockPool();
            poisonFreeBlocks(pool);
            CacheStats st = sut.cache.stats();
            assertEquals(BLOCKS, st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation " + st);
            float[] got = new float[SHAPE.headDim()];
            for (Map.Entry<Integer, Req> e : model.reqs.entrySet()) {
                Req r = e.getValue();
                Sequence s = sut.seqs.get(e.getKey());
                assertEquals(r.tokens.size(), s.length(), "length of r" + e.getKey());
                assertEquals(r.written, s.writtenTokens(), "written mark of r" + e.getKey());
                for (int p = 0; p < r.written; p++) {
                    for (int l = 0; l < SHAPE.layers(); l++) {
                        s.readKey(l, 0, p, got, 0);
                        assertOwn(r, e.getKey(), p, l, 0, got);
                        s.readValue(l, 0, p, got, 0);
                        assertOwn(r, e.getKey(), p, l, 1, got);
                    }
                }
                if (r.written < r.tokens.size()) {
                    int p = r.written;
                    assertThrows(IllegalStateException.class, () -> s.readKey(0, 0, p, new float[8], 0),
                            "r" + e.getKey() + " position " + p + " is reserved but not written");
                }
                for (int b = 0; b < s.blockCount(); b++) {
                    for (int l = 0; l < SHAPE.layers(); l++) {
                        MemorySegment keys = s.keys(b, l, 0);
                        int slots = (int) (keys.byteSize() / LAYOUT.headBytes());
                        assertEquals(Math.max(0, Math.min(LAYOUT.blockSize(), r.written - b * LAYOUT.blockSize())), slots);
                        for (int slot = 0; slot < slots; slot++) {
                            MemorySegment.copy(keys, ValueLayout.JAVA_FLOAT, (long) slot * LAYOUT.headBytes(), got, 0,
                                    got.length);
                            assertOwn(r, e.getKey(), b * LAYOUT.blockSize() + slot, l, 0, got);
                        }
                    }
                }
            }
        }

        @Override
        public void close(Sut sut) {
            sut.cache.close();
        }
    }

    static void assertOwn(Req r, int key, int p, int layer, int kv, float[] got) {
        for (int i = 0; i < got.length; i++) {
            if (got[i] == POISON) {
                throw new AssertionError("r" + key + " read the poison of a freed block at position " + p);
            }
            assertEquals(value(r.tenant, r.tokens, p, layer, kv, i), got[i],
                    "r" + key + " (tenant " + r.tenant + ") position " + p + " layer " + layer + (kv == 0 ? " K" : " V"));
        }
    }

    /** Fills every byte of every free, committed block with the poison pattern. */
    static void poisonFreeBlocks(BlockPool pool) {
        for (int id = 0; id < pool.blockCount(); id++) {
            MemorySegment seg = pool.segment(id);
            if (seg != null && pool.refCount(id) == 0) {
                for (long off = 0; off < seg.byteSize(); off += Float.BYTES) {
                    seg.set(ValueLayout.JAVA_FLOAT, off, POISON);
                }
            }
        }
    }

    @Test
    void noReadOrPrefixHitEverReturnsPoisonAnotherTenantsOrAnUnwrittenSlot() {
        Stateful.of(new Machine()).steps(50).tries(60).check();
    }

    @Test
    void poisonIsReallyWrittenAndReallyDetected() {
        // The poisoning above must reach the blocks a later request gets: a sequence that reserves a
        // freed block sees the poison in its raw bytes (through the cache's whole-block view) until it writes.
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 2)) {
            Sequence a = cache.openSequence();
            a.append(4);
            a.close();
            poisonFreeBlocks(cache.blockPool());
            Sequence b = cache.openSequence();
            b.append(1);
            assertEquals(POISON, cache.block(b.blockId(0)).get(ValueLayout.JAVA_FLOAT, 0));
            assertThrows(IllegalStateException.class, () -> b.readKey(0, 0, 0, new float[8], 0));
            assertEquals(0, b.keys(0, 0, 0).byteSize(), "no written slot in the view");
            assertTrue(b.writtenTokens() == 0);
        }
    }
}
