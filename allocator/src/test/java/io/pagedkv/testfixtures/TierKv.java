package io.pagedkv.testfixtures;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.engine.KvWriter;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.model.ModelShape;

/**
 * The K/V a fake model computes in the prefix-tier tests, of any layout: each element is a function
 * of the whole prefix up to its token (a rolling hash of the ids), its position, layer, K|V, head and
 * index, as a real model's K/V is. A block restored under the wrong parent, salt or token ids, or a
 * block never written, reads back as a mismatch.
 *
 * <p>Shared through the allocator's test jar: the allocator's tier tests use {@link #LAYOUT}, the
 * Redis module's tests a layout of their own. Static helpers only; each call works on the objects it
 * is given.
 */
public final class TierKv {

    /** The allocator's tier tests' layout: 2 layers, 2 KV heads of 4, F32, 4-token blocks. */
    public static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tier-tiny", 2, 2, 2, 4), KvDType.F32, 4);

    private TierKv() {
    }

    /** Rolling hash of {@code tokens[0 .. p]}. */
    private static long prefixHash(int[] tokens, int p) {
        long h = 17;
        for (int i = 0; i <= p; i++) {
            h = (h ^ tokens[i]) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return h;
    }

    private static float value(long prefix, int position, int layer, int kv, int head, int j) {
        return (int) Math.floorMod(prefix + position * 3L + layer * 5L + kv * 11L + head * 13L + j, 29L) / 8f - 1.75f;
    }

    /** Writes row {@code row}'s chunk in every layer of {@code layout}, the layout of the writer's cache. */
    public static void writeRow(CacheLayout layout, KvWriter writer, StepPlan plan, int row, int[] tokens) {
        int count = plan.queryLength(row);
        int start = plan.contextLength(row);
        int heads = layout.shape().kvHeads();
        int dim = layout.shape().headDim();
        float[] k = new float[count * heads * dim];
        float[] v = new float[count * heads * dim];
        for (int l = 0; l < layout.shape().layers(); l++) {
            for (int i = 0; i < count; i++) {
                long ph = prefixHash(tokens, start + i);
                for (int h = 0; h < heads; h++) {
                    for (int j = 0; j < dim; j++) {
                        k[(i * heads + h) * dim + j] = value(ph, start + i, l, 0, h, j);
                        v[(i * heads + h) * dim + j] = value(ph, start + i, l, 1, h, j);
                    }
                }
            }
            writer.write(plan, row, l, 0, count, k, 0, v, 0);
        }
    }

    /**
     * Throws unless {@code seq}, of a cache of {@code layout}, reads back the model's K/V of
     * {@code tokens} at every written position.
     */
    public static void assertReadsBack(CacheLayout layout, StepSequence seq, int[] tokens) {
        int dim = layout.shape().headDim();
        float[] got = new float[dim];
        for (int l = 0; l < layout.shape().layers(); l++) {
            for (int p = 0; p < seq.written(l); p++) {
                long ph = prefixHash(tokens, p);
                for (int h = 0; h < layout.shape().kvHeads(); h++) {
                    for (int kv = 0; kv < 2; kv++) {
                        if (kv == 0) {
                            seq.readKey(l, h, p, got, 0);
                        } else {
                            seq.readValue(l, h, p, got, 0);
                        }
                        for (int j = 0; j < dim; j++) {
                            float want = value(ph, p, l, kv, h, j);
                            if (got[j] != want) {
                                throw new AssertionError(seq + " layer " + l + " pos " + p + (kv == 0 ? " K" : " V")
                                        + " head " + h + " [" + j + "]: " + got[j] + " (expected: " + want
                                        + "): served K/V not written for these tokens");
                            }
                        }
                    }
                }
            }
        }
    }

    /** Admits {@code prompt}, prefills its uncached rest in one step, and returns the running sequence (null: no room). */
    public static StepSequence prefill(StepPlanner planner, KvWriter writer, int[] prompt, PrefixKeys keys) {
        CacheLayout layout = planner.cache().layout();
        StepSequence seq = planner.admit(prompt, prompt.length, keys);
        if (seq == null) {
            return null;
        }
        assertReadsBack(layout, seq, prompt); // the reused prefix, as served
        int start = seq.length();
        if (!planner.schedule(seq, prompt, start, prompt.length - start)) {
            throw new AssertionError("an admitted prompt did not fit: " + seq);
        }
        StepPlan plan = planner.plan();
        writeRow(layout, writer, plan, seq.row(), prompt);
        planner.complete(plan);
        assertReadsBack(layout, seq, prompt);
        return seq;
    }

    /** Blocks counted from the pool: free + used + cached must be the total. */
    public static void assertConserved(PagedKvCache cache) {
        var st = cache.stats();
        if (st.freeBlocks() + st.usedBlocks() + st.cachedBlocks() != st.totalBlocks()) {
            throw new AssertionError("conservation: " + st);
        }
        int free = 0;
        for (int id = 0; id < cache.pool().blockCount(); id++) {
            if (cache.pool().refCount(id) == 0) {
                free++;
            }
        }
        if (free != st.freeBlocks()) {
            throw new AssertionError("free blocks counted " + free + " vs stats " + st);
        }
    }

    /** A prompt of {@code length} token ids in [1, 500], a function of {@code seed}. */
    public static int[] prompt(int seed, int length) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) {
            t[i] = 1 + Math.floorMod(seed * 131 + i * 7, 500);
        }
        return t;
    }

    /** Poison: no value the fake model computes (those lie in [-1.75, 1.75]). */
    public static final float POISON = 1000f;

    /**
     * Fills every free block with {@link #POISON} through a plain sequence that takes exactly the free
     * blocks (no reclaim) and gives them back: a block indexed or served without being written (by a
     * request, or by a verified restore) then reads as poison.
     */
    public static void poisonFreeBlocks(PagedKvCache cache) {
        int free = cache.freeBlocks();
        if (free == 0) {
            return;
        }
        CacheLayout layout = cache.layout();
        int bs = layout.blockSize();
        io.pagedkv.cache.Sequence p = cache.openSequence();
        if (!p.tryAppend(free * bs)) {
            throw new AssertionError("free blocks are allocatable: " + cache.stats());
        }
        float[] poison = new float[layout.shape().kvHeads() * layout.shape().headDim()];
        java.util.Arrays.fill(poison, POISON);
        for (int pos = 0; pos < free * bs; pos++) {
            for (int l = 0; l < layout.shape().layers(); l++) {
                p.write(l, pos, poison, poison);
            }
        }
        p.close();
        if (cache.freeBlocks() != free) {
            throw new AssertionError("poisoning changed the free count: " + cache.stats());
        }
    }
}
