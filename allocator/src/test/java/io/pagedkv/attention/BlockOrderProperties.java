package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The two block orders are the same cache to everything that writes and reads through pagedkv: the
 * same writes (whole tokens from arrays and segments, single heads), a fork whose child then writes
 * (copy-on-write), and a prefix reused from the cache by a second sequence give, under
 * {@link BlockOrder#HEAD_RUNS} and {@link BlockOrder#TOKEN_RUNS}, the same encoded head vectors at
 * {@link CacheLayout#offset}, the same decoded reads bit for bit, and the same decode and prefill
 * outputs and weights from both engines (scalar and Vector API: the same loops over the same values,
 * equal up to a last-bit rounding of code not yet compiled), for every dtype (FP8 with per-head
 * scales), head dims that fill, split and pack the vector width, and block sizes from 1.
 */
class BlockOrderProperties {

    /**
     * One case.
     *
     * @param dtype cache dtype
     * @param layers layers
     * @param kvHeads KV heads
     * @param group query heads per KV head
     * @param headDim head dimension
     * @param blockSize tokens per block
     * @param tokens tokens of the written sequence (at least 1)
     * @param seed data seed
     */
    record Case(KvDType dtype, int layers, int kvHeads, int group, int headDim, int blockSize, int tokens, long seed) {
        ModelShape shape() {
            return ModelShape.of("orders", layers, kvHeads * group, kvHeads, headDim);
        }
    }

    static Gen<Case> cases() {
        return Gens.oneOf(KvDType.values()).flatMap(dtype -> Gens.zip(SlotPositionProperties.headDims(dtype), Gens.ints(1, 3),
                Gens.ints(1, 3), Gens.ints(1, 3), (hd, layers, kv, g) -> new int[] {hd, layers, kv, g})
                .flatMap(a -> Gens.zip(Gens.choose(Gens.ints(1, 17), Gens.oneOf(16, 32)), Gens.ints(1, 70),
                        Gens.longs(0, Long.MAX_VALUE),
                        (bs, t, seed) -> new Case(dtype, a[1], a[2], a[3], a[0], bs, t, seed))));
    }

    /** What one order's cache holds and computes after the case's operations. */
    record Outcome(List<float[]> reads, List<byte[]> heads, List<float[]> outputs) {
    }

    @Test
    void theSameWritesForksAndPrefixReuseStoreAndReadTheSameBytesAndAttendAlikeUnderBothBlockOrders() {
        Property.forAll(cases()).check(c -> {
            Outcome head = run(c, BlockOrder.HEAD_RUNS);
            Outcome token = run(c, BlockOrder.TOKEN_RUNS);
            assertEquals(head.heads().size(), token.heads().size(), c.toString());
            for (int i = 0; i < head.heads().size(); i++) {
                assertArrayEquals(head.heads().get(i), token.heads().get(i), "encoded head vector " + i + " of " + c);
            }
            for (int i = 0; i < head.reads().size(); i++) {
                assertArrayEquals(head.reads().get(i), token.reads().get(i), "read " + i + " of " + c);
            }
            for (int i = 0; i < head.outputs().size(); i++) {
                // The same loops over the same values, but not always the same compiled code: before C2 compiles
                // them, the Vector API's Java fallbacks and Math.exp may round the last bit differently.
                PagedAttentionTest.assertClose(head.outputs().get(i), token.outputs().get(i), 1e-6f,
                        "attention output " + i + " of " + c);
            }
        });
    }

    /** Scales for FP8 (random per (layer, K|V, head)), 1 for the other dtypes. */
    private static KvScales scales(Case c, SplittableRandom r) {
        float[][] k = new float[c.layers()][c.kvHeads()];
        float[][] v = new float[c.layers()][c.kvHeads()];
        boolean fp8 = c.dtype() == KvDType.FP8_E4M3 || c.dtype() == KvDType.FP8_E5M2;
        for (int l = 0; l < c.layers(); l++) {
            for (int h = 0; h < c.kvHeads(); h++) {
                k[l][h] = fp8 ? (float) (0.25 + r.nextDouble() * 4) : 1f;
                v[l][h] = fp8 ? (float) (0.25 + r.nextDouble() * 4) : 1f;
            }
        }
        return KvScales.of(k, v);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return f;
    }

    /**
     * Writes sequence A (each (position, layer) by a random one of the write calls), commits its
     * prefix, forks it into C which rewrites one position, opens B on A's prompt (reusing A's full
     * blocks) and writes B's remaining positions as A; then reads all three back and attends over them.
     */
    private static Outcome run(Case c, BlockOrder order) {
        ModelShape shape = c.shape();
        CacheLayout layout = new CacheLayout(shape, c.dtype(), c.blockSize(), order);
        SplittableRandom r = new SplittableRandom(c.seed());
        KvScales scales = scales(c, r);
        int width = c.kvHeads() * c.headDim();
        int hd = c.headDim();
        int blocks = 3 * (int) layout.blocksFor(c.tokens()) + 2;
        List<float[]> reads = new ArrayList<>();
        List<byte[]> heads = new ArrayList<>();
        List<float[]> outputs = new ArrayList<>();
        try (PagedKvCache cache = new PagedKvCache(layout, blocks, scales); Arena arena = Arena.ofConfined()) {
            int[] prompt = new int[c.tokens()];
            Arrays.setAll(prompt, i -> 1 + i);
            float[][][] k = new float[c.tokens()][c.layers()][];
            float[][][] v = new float[c.tokens()][c.layers()][];
            Sequence a = cache.openSequence(prompt);
            a.appendTokens(prompt, 0, c.tokens());
            MemorySegment kSeg = arena.allocate((long) width * Float.BYTES);
            MemorySegment vSeg = arena.allocate((long) width * Float.BYTES);
            for (int p = 0; p < c.tokens(); p++) {
                for (int l = 0; l < c.layers(); l++) {
                    k[p][l] = random(r, width);
                    v[p][l] = random(r, width);
                    switch (r.nextInt(3)) {
                        case 0 -> a.write(l, p, k[p][l], v[p][l]);
                        case 1 -> {
                            for (int h = c.kvHeads() - 1; h >= 0; h--) { // heads in any order
                                a.writeKey(l, h, p, k[p][l], h * hd);
                                a.writeValue(l, h, p, v[p][l], h * hd);
                            }
                            a.markWritten(l, p + 1);
                        }
                        default -> {
                            MemorySegment.copy(k[p][l], 0, kSeg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, width);
                            MemorySegment.copy(v[p][l], 0, vSeg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, width);
                            a.write(l, p, kSeg, 0, vSeg, 0);
                        }
                    }
                }
            }
            a.commitPrefix();
            Sequence fork = a.fork();
            int rewritten = r.nextInt(c.tokens());
            for (int l = 0; l < c.layers(); l++) {
                fork.write(l, rewritten, random(r, width), random(r, width)); // copies the shared block first
            }
            Sequence b = cache.openSequence(prompt);
            int reused = b.reusedTokens();
            assertEquals(reused, b.length(), order + " " + c);
            if (reused < c.tokens()) {
                b.appendTokens(prompt, reused, c.tokens() - reused);
            }
            for (int p = reused; p < c.tokens(); p++) {
                for (int l = 0; l < c.layers(); l++) {
                    b.write(l, p, k[p][l], v[p][l]);
                }
            }
            for (Sequence s : new Sequence[] {a, fork, b}) {
                assertEquals(c.tokens(), s.writtenTokens(), order + " " + c);
                for (int l = 0; l < c.layers(); l++) {
                    for (int h = 0; h < c.kvHeads(); h++) {
                        for (int p = 0; p < c.tokens(); p++) {
                            float[] key = new float[hd];
                            float[] value = new float[hd];
                            s.readKey(l, h, p, key, 0);
                            s.readValue(l, h, p, value, 0);
                            reads.add(key);
                            reads.add(value);
                            MemorySegment block = cache.block(s.blockId(p / c.blockSize()));
                            for (int kv = 0; kv < 2; kv++) {
                                heads.add(block.asSlice(layout.offset(l, kv, h, p % c.blockSize()), layout.headBytes())
                                        .toArray(ValueLayout.JAVA_BYTE));
                            }
                        }
                    }
                }
                attend(c, layout, scales, s, r, outputs);
            }
            assertTrue(cache.stats().usedBlocks() > 0);
        }
        return new Outcome(reads, heads, outputs);
    }

    /** Decode with weights and a prefill chunk at the sequence's end, on both engines, every layer. */
    private static void attend(Case c, CacheLayout layout, KvScales scales, Sequence s, SplittableRandom r,
            List<float[]> outputs) {
        ModelShape shape = c.shape();
        int width = shape.queryHeads() * shape.headDim();
        BlockTableView view = BlockTableView.of(s);
        int count = 1 + r.nextInt(Math.min(c.tokens(), 2 * PagedAttention.QUERY_TILE + 1));
        float[] q = new float[count * width];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (r.nextDouble() * 4 - 2);
        }
        for (PagedAttention kernel : new PagedAttention[] {PagedAttention.scalar(layout, scales),
                PagedAttention.vectorized(layout, scales)}) {
            for (int l = 0; l < c.layers(); l++) {
                float[] out = new float[width];
                float[] weights = new float[shape.queryHeads() * c.tokens()];
                kernel.decode(view, c.tokens(), l, q, 0, out, 0, weights);
                outputs.add(out);
                outputs.add(weights);
                float[] chunk = new float[count * width];
                kernel.prefill(view, c.tokens() - count, count, l, q, 0, chunk, 0);
                outputs.add(chunk);
            }
        }
    }
}
