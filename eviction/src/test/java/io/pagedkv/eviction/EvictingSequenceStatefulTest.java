package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Eviction, slot reuse, block release and compaction interleaved with appends, forks and writes, on a
 * real paged cache, against a plain model: after every operation every kept token reads back exactly
 * its K/V and its original position, every block-table entry names a live block whose reference
 * count equals the tables naming it, and blocks are conserved.
 */
class EvictingSequenceStatefulTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 2, 2, 4);
    static final int LAYERS = 2;
    static final int WIDTH = 2 * 4; // kvHeads * headDim
    static final int BLOCK = 4;

    /** What a sequence should hold: per slot, the position and the K/V of every layer. */
    static final class Model {
        final Map<Integer, Integer> position = new HashMap<>();
        final Map<Integer, float[][]> kv = new HashMap<>();

        Model copy() {
            Model m = new Model();
            m.position.putAll(position);
            kv.forEach((s, v) -> m.kv.put(s, new float[][] {v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()}));
            return m;
        }

        void move(int from, int to) {
            position.put(to, position.remove(from));
            kv.put(to, kv.remove(from));
        }
    }

    static final class Entry {
        final EvictingSequence seq;
        final SequenceEvictor evictor; // only the root runs a policy; forks evict by hand
        final Model model;

        Entry(EvictingSequence seq, SequenceEvictor evictor, Model model) {
            this.seq = seq;
            this.evictor = evictor;
            this.model = model;
        }
    }

    static final List<Supplier<EvictionPolicy>> POLICIES = List.of(
            () -> new SlidingWindow(6),
            () -> new AttentionSinks(2, 5, BLOCK),
            () -> new SlidingWindow(6, BLOCK),
            () -> new HeavyHitters(3, 3, HeavyHitters.Accumulation.SUM),
            () -> new KeyNorm(7, 1, 2));

    @Test
    void keptTokensReadBackTheirKvAndPositionAndBlocksAreConservedThroughEvictionForksAndCompaction() {
        int tries = Math.max(10, Integer.getInteger("pagedkv.tries", 100) / 2);
        SplittableRandom seeds = new SplittableRandom(99);
        for (int t = 0; t < tries; t++) {
            long seed = seeds.nextLong();
            List<String> log = new ArrayList<>();
            try {
                run(new SplittableRandom(seed), log);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ", last ops " + log.subList(Math.max(0, log.size() - 10), log.size()), e);
            }
        }
    }

    private static void run(SplittableRandom rnd, List<String> log) {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F32, BLOCK);
        try (PagedKvCache cache = new PagedKvCache(layout, 256)) {
            EvictionPolicy policy = POLICIES.get(rnd.nextInt(POLICIES.size())).get();
            log.add("policy " + policy.name());
            EvictingSequence rootSeq = new EvictingSequence(cache.openSequence());
            Entry root = new Entry(rootSeq, new SequenceEvictor(rootSeq, policy), new Model());
            List<Entry> open = new ArrayList<>();
            open.add(root);
            int nextPosition = 0;
            int steps = rnd.nextInt(10, 120);
            for (int step = 0; step < steps; step++) {
                int op = rnd.nextInt(10);
                if (op < 5) {
                    int pos = nextPosition++;
                    int slot = root.evictor.append(pos);
                    write(root, slot, pos, rnd);
                    feed(root, rnd);
                    evictRoot(root);
                    log.add("append pos=" + pos + " slot=" + slot + " live=" + root.seq.liveTokens());
                } else if (op == 5) {
                    int holes = root.seq.holes();
                    int moves = root.evictor.compact();
                    resync(root);
                    log.add("compact root moves=" + moves);
                    assertTrue(moves <= holes, "at most one move per hole: " + moves + " > " + holes);
                    assertEquals(0, root.seq.holes());
                } else if (op == 6 && open.size() < 4) {
                    EvictingSequence f = root.seq.fork();
                    open.add(new Entry(f, null, root.model.copy()));
                    log.add("fork");
                } else if (op == 7 && open.size() > 1) {
                    Entry e = open.get(rnd.nextInt(1, open.size()));
                    forkOp(e, rnd, log, nextPosition++);
                } else if (op == 8) {
                    Entry e = open.get(rnd.nextInt(open.size()));
                    if (!e.model.position.isEmpty()) {
                        List<Integer> slots = new ArrayList<>(e.model.position.keySet());
                        int slot = slots.get(rnd.nextInt(slots.size()));
                        write(e, slot, e.model.position.get(slot), rnd);
                        log.add("overwrite slot " + slot);
                    }
                } else if (op == 9 && open.size() > 1) {
                    Entry e = open.remove(rnd.nextInt(1, open.size()));
                    e.seq.close();
                    log.add("close fork");
                }
                check(cache, open);
            }
            for (int i = 1; i < open.size(); i++) {
                open.get(i).seq.close();
            }
            root.seq.close();
            assertEquals(0, cache.pool().usedBlocks(), "every block back in the pool after closing");
        }
    }

    private static void evictRoot(Entry root) {
        root.evictor.evict();
        resync(root);
    }

    /** Rebuilds the model's slot map from the sequence (positions are unique), keeping K/V by position. */
    private static void resync(Entry root) {
        EvictionPolicy p = root.evictor.policy();
        Map<Integer, float[][]> kvByPos = new HashMap<>();
        root.model.position.forEach((slot, pos) -> kvByPos.put(pos, root.model.kv.get(slot)));
        root.model.position.clear();
        root.model.kv.clear();
        for (int s = 0; s < root.seq.slots(); s++) {
            int pos = root.seq.positionOf(s);
            assertEquals(pos, p.positionOf(s), "policy and sequence agree on slot " + s);
            if (pos >= 0) {
                assertTrue(kvByPos.containsKey(pos), "position " + pos + " appeared from nowhere");
                root.model.position.put(s, pos);
                root.model.kv.put(s, kvByPos.get(pos));
            }
        }
        assertEquals(p.liveTokens(), root.seq.liveTokens());
        assertTrue(p.liveTokens() <= p.budget() + p.quantum() - 1, "budget bound");
    }

    private static void forkOp(Entry e, SplittableRandom rnd, List<String> log, int position) {
        int kind = rnd.nextInt(4);
        if (kind == 0) {
            int slot = e.seq.append(position);
            write(e, slot, position, rnd);
            log.add("fork append slot " + slot);
        } else if (kind == 1 && !e.model.position.isEmpty()) {
            List<Integer> slots = new ArrayList<>(e.model.position.keySet());
            int slot = slots.get(rnd.nextInt(slots.size()));
            e.seq.evict(slot);
            e.model.position.remove(slot);
            e.model.kv.remove(slot);
            log.add("fork evict slot " + slot);
        } else if (kind == 2) {
            int moves = e.seq.compact(e.model::move);
            log.add("fork compact moves " + moves);
        } else {
            int released = e.seq.releaseEmptyBlocks(e.model::move);
            log.add("fork release " + released);
        }
    }

    private static void write(Entry e, int slot, int pos, SplittableRandom rnd) {
        float[][] kv = new float[2 * LAYERS][WIDTH];
        for (int l = 0; l < LAYERS; l++) {
            for (int i = 0; i < WIDTH; i++) {
                kv[2 * l][i] = (float) rnd.nextGaussian();
                kv[2 * l + 1][i] = (float) rnd.nextGaussian();
            }
            e.seq.sequence().write(l, slot, kv[2 * l], kv[2 * l + 1]);
            if (e.evictor != null && e.evictor.policy().usesKeys()) {
                e.evictor.policy().onKey(slot, kv[2 * l], 0, WIDTH);
            }
        }
        e.model.position.put(slot, pos);
        e.model.kv.put(slot, kv);
    }

    private static void feed(Entry root, SplittableRandom rnd) {
        EvictionPolicy p = root.evictor.policy();
        if (!p.usesAttention()) {
            return;
        }
        float[] row = new float[root.seq.slots()];
        for (int s = 0; s < row.length; s++) {
            row[s] = root.seq.positionOf(s) >= 0 ? rnd.nextInt(4) / 4f : 0f;
        }
        p.onAttention(row, row.length);
    }

    private static void check(PagedKvCache cache, List<Entry> open) {
        Map<Integer, Integer> namedBy = new HashMap<>();
        float[] got = new float[4];
        for (Entry e : open) {
            int live = 0;
            for (int s = 0; s < e.seq.slots(); s++) {
                Integer want = e.model.position.get(s);
                assertEquals(want == null ? EvictingSequence.HOLE : want, e.seq.positionOf(s), "position of slot " + s);
                if (want != null) {
                    live++;
                    float[][] kv = e.model.kv.get(s);
                    for (int l = 0; l < LAYERS; l++) {
                        for (int h = 0; h < 2; h++) {
                            e.seq.sequence().readKey(l, h, s, got, 0);
                            assertArrayEquals(java.util.Arrays.copyOfRange(kv[2 * l], h * 4, h * 4 + 4), got,
                                    "key of slot " + s + " position " + want + " layer " + l + " head " + h);
                            e.seq.sequence().readValue(l, h, s, got, 0);
                            assertArrayEquals(java.util.Arrays.copyOfRange(kv[2 * l + 1], h * 4, h * 4 + 4), got,
                                    "value of slot " + s + " position " + want);
                        }
                    }
                }
            }
            assertEquals(live, e.seq.liveTokens(), "live tokens");
            int blocks = e.seq.sequence().blockCount();
            assertEquals((e.seq.slots() + BLOCK - 1) / BLOCK, blocks, "block count covers the slots exactly");
            for (int i = 0; i < blocks; i++) {
                namedBy.merge(e.seq.sequence().blockId(i), 1, Integer::sum);
            }
        }
        BlockPool pool = cache.pool();
        for (Map.Entry<Integer, Integer> b : namedBy.entrySet()) {
            assertEquals((int) b.getValue(), pool.refCount(b.getKey()),
                    "block " + b.getKey() + " is named by " + b.getValue() + " tables (a freed block has refCount 0)");
        }
        assertEquals(namedBy.size(), pool.usedBlocks(), "used blocks = blocks named by some table");
        assertEquals(pool.blockCount(), pool.usedBlocks() + pool.freeBlocks(), "conservation");
    }
}
