package io.pagedkv.attention;

import static io.pagedkv.attention.PagedAttentionTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The block table's length, slot positions and holes: issue 23 item 5 and issue 22 item 2 (kernel part). */
class PagedAttentionPositionsTest {

    private static final ModelShape SHAPE = ModelShape.of("t", 2, 4, 2, 8);

    @Test
    void aTokenCountBeyondTheTablesLengthIsRejectedBeforeAnyBlockIsRead() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F32, 4);
        BlockTableView five = BlockTableView.of(() -> 5, i -> {
            throw new AssertionError("no block may be read for a rejected call");
        });
        float[] q = new float[32];
        float[] out = new float[32];
        for (PagedAttention a : new PagedAttention[] {PagedAttention.scalar(layout), PagedAttention.vectorized(layout)}) {
            IllegalArgumentException d = assertThrows(IllegalArgumentException.class, () -> a.decode(five, 6, 0, q, 0, out, 0, null));
            assertTrue(d.getMessage().contains("tokens: 6 (expected: <= the block table's length 5)"), d.getMessage());
            IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                    () -> a.prefill(five, 4, 2, 0, new float[64], 0, new float[64], 0));
            assertTrue(p.getMessage().contains("tokens: 6 (expected: <= the block table's length 5)"), p.getMessage());
            IllegalArgumentException np = assertThrows(IllegalArgumentException.class,
                    () -> a.decode(five, 5, new int[4], 0, q, 0, out, 0, null));
            assertTrue(np.getMessage().contains("positions: 4 entries (expected: >= slots 5)"), np.getMessage());
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> a.decode(five, 3, new int[] {0, -2, 1}, 0, q, 0, out, 0, null));
            assertTrue(bad.getMessage().contains("positions[1]: -2 (expected: >= 0, or HOLE = -1)"), bad.getMessage());
            IllegalArgumentException first = assertThrows(IllegalArgumentException.class,
                    () -> a.prefill(five, 5, null, -1, 1, 0, q, 0, out, 0));
            assertTrue(first.getMessage().contains("firstPosition: -1"), first.getMessage());
        }
    }

    @Test
    void aBlockSmallerThanTheLayoutsIsNamedInsteadOfReadOutOfBounds() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F32, 4);
        java.lang.foreign.MemorySegment small = java.lang.foreign.Arena.ofAuto().allocate(64);
        BlockTableView table = BlockTableView.of(() -> 4, i -> small);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PagedAttention.create(layout).decode(table, 4, 0, new float[32], 0, new float[32], 0, null));
        assertTrue(e.getMessage().contains("block 0 of the table: 64 bytes (expected: a block of " + layout.bytesPerBlock()),
                e.getMessage());
    }

    @Test
    void whenEverySlotIsAHoleTheOutputAndTheWeightsAreZero() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F16, 4);
        try (ScatteredBlocks s = new ScatteredBlocks(layout, 7, new SplittableRandom(3))) {
            int[] holes = new int[7];
            Arrays.fill(holes, PagedAttention.HOLE);
            for (PagedAttention a : new PagedAttention[] {PagedAttention.scalar(layout), PagedAttention.vectorized(layout)}) {
                float[] out = new float[32];
                Arrays.fill(out, 9f);
                float[] weights = new float[4 * 7];
                Arrays.fill(weights, 9f);
                a.decode(s.view(), 7, holes, 1, PagedAttentionTest.randomQuery(new SplittableRandom(1), SHAPE), 0, out, 0, weights);
                for (float v : out) {
                    assertEquals(0f, v, a.loops());
                }
                for (float w : weights) {
                    assertEquals(0f, w, a.loops());
                }
            }
        }
    }

    /**
     * An {@link EvictingSequence} evicts slots, reuses two holes for newer tokens and leaves one: the
     * kernels read its slots with {@code positionOf} as positions, and equal the oracle over the live
     * tokens; prefill of the two newest tokens sees, for each, the live tokens up to its position.
     */
    @Test
    void theSlotsOfAnEvictingSequenceAttendedWithTheirPositionsEqualTheOracleOverTheLiveTokens() {
        ModelShape shape = ModelShape.of("t", 1, 6, 3, 16);
        for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16, KvDType.BF16}) {
            CacheLayout layout = new CacheLayout(shape, dtype, 4);
            try (PagedKvCache cache = new PagedKvCache(layout, 8)) {
                EvictingSequence ev = new EvictingSequence(cache.openSequence());
                SplittableRandom r = new SplittableRandom(5);
                int kvDim = shape.kvHeads() * shape.headDim();
                float[][] byPosition = new float[2][13 * kvDim * 2];
                for (int p = 0; p < 10; p++) {
                    write(ev, p, r, byPosition);
                }
                ev.evict(1);
                ev.evict(6);
                ev.evict(8);
                write(ev, 10, r, byPosition); // takes a hole
                write(ev, 11, r, byPosition); // takes another
                int slots = ev.slots();
                int[] positions = new int[slots];
                for (int s = 0; s < slots; s++) {
                    positions[s] = ev.positionOf(s);
                }
                assertEquals(1, ev.holes());
                float[] q = PagedAttentionTest.randomQuery(r, shape);
                for (PagedAttention a : new PagedAttention[] {PagedAttention.scalar(layout), PagedAttention.create(layout)}) {
                    float[] out = new float[q.length];
                    float[] weights = new float[shape.queryHeads() * slots];
                    a.decode(BlockTableView.of(ev::slots, i -> ev.cache().block(ev.blockId(i))), slots, positions, 0, q, 0, out, 0, weights);
                    float[] expected = oracle(shape, byPosition, positions, Integer.MAX_VALUE, q, 0);
                    assertClose(expected, out, 1e-5f, dtype + " " + a.loops());
                    for (int s = 0; s < slots; s++) {
                        if (positions[s] == PagedAttention.HOLE) {
                            for (int h = 0; h < shape.queryHeads(); h++) {
                                assertEquals(0f, weights[h * slots + s]);
                            }
                        }
                    }
                    int width = shape.queryHeads() * shape.headDim();
                    float[] two = new float[2 * width];
                    for (int i = 0; i < two.length; i++) {
                        two[i] = (float) r.nextGaussian();
                    }
                    float[] chunk = new float[two.length];
                    a.prefill(BlockTableView.of(ev::slots, i -> ev.cache().block(ev.blockId(i))), slots, positions, 10, 2, 0, two, 0, chunk, 0);
                    for (int i = 0; i < 2; i++) {
                        float[] want = oracle(shape, byPosition, positions, 10 + i, two, i * width);
                        assertClose(want, Arrays.copyOfRange(chunk, i * width, (i + 1) * width), 1e-5f,
                                dtype + " prefill query " + (10 + i));
                    }
                    // decodeAt: one query of the chunk with its weights (SnapKV's observation window)
                    for (int i = 0; i < 2; i++) {
                        int qp = 10 + i;
                        float[] one = new float[width];
                        float[] w = new float[shape.queryHeads() * slots];
                        Arrays.fill(w, 9f);
                        a.decodeAt(BlockTableView.of(ev::slots, j -> ev.cache().block(ev.blockId(j))), slots, positions, qp, 0,
                                two, i * width, one, 0, w);
                        assertClose(Arrays.copyOfRange(chunk, i * width, (i + 1) * width), one, 1e-5f,
                                dtype + " decodeAt " + qp + " vs its prefill output");
                        int group = shape.queryHeads() / shape.kvHeads();
                        int hd = shape.headDim();
                        for (int h = 0; h < shape.queryHeads(); h++) {
                            double[] e = new double[slots];
                            double total = 0;
                            for (int s = 0; s < slots; s++) {
                                if (positions[s] >= 0 && positions[s] <= qp) {
                                    double dot = 0;
                                    for (int d = 0; d < hd; d++) {
                                        dot += (double) two[i * width + h * hd + d]
                                                * byPosition[0][positions[s] * kvDim + (h / group) * hd + d];
                                    }
                                    e[s] = Math.exp(dot / Math.sqrt(hd));
                                    total += e[s];
                                }
                            }
                            for (int s = 0; s < slots; s++) {
                                assertEquals(e[s] / total, w[h * slots + s], 1e-5, dtype + " " + a.loops() + " weight of slot " + s
                                        + " (position " + positions[s] + ") for the query at " + qp + ", head " + h);
                            }
                        }
                    }
                }
                ev.close();
            }
        }
    }

    /** Writes random K/V for position p (appended through the evicting sequence) and remembers what the cache decodes. */
    private static void write(EvictingSequence ev, int p, SplittableRandom r, float[][] byPosition) {
        CacheLayout layout = ev.cache().layout();
        int kvDim = layout.shape().kvHeads() * layout.shape().headDim();
        float[] k = new float[kvDim];
        float[] v = new float[kvDim];
        for (int i = 0; i < kvDim; i++) {
            k[i] = (float) r.nextGaussian();
            v[i] = (float) r.nextGaussian();
        }
        int position = ev.append(100 + p); // positions are handed out in append order: 0, 1, 2, ...
        assertEquals(p, position);
        ev.write(0, p, k, v);
        int hd = layout.shape().headDim();
        for (int h = 0; h < layout.shape().kvHeads(); h++) {
            ev.readKey(0, h, p, byPosition[0], p * kvDim + h * hd);
            ev.readValue(0, h, p, byPosition[1], p * kvDim + h * hd);
        }
    }

    /** ContiguousAttention over the live tokens with position <= queryPosition, in position order. */
    private static float[] oracle(ModelShape shape, float[][] byPosition, int[] positions, int queryPosition, float[] q,
            int qOff) {
        int kvDim = shape.kvHeads() * shape.headDim();
        int[] live = Arrays.stream(positions).filter(p -> p >= 0 && p <= queryPosition).sorted().toArray();
        float[] keys = new float[live.length * kvDim];
        float[] values = new float[live.length * kvDim];
        for (int j = 0; j < live.length; j++) {
            System.arraycopy(byPosition[0], live[j] * kvDim, keys, j * kvDim, kvDim);
            System.arraycopy(byPosition[1], live[j] * kvDim, values, j * kvDim, kvDim);
        }
        float[] out = new float[shape.queryHeads() * shape.headDim()];
        ContiguousAttention.decode(shape.queryHeads(), shape.kvHeads(), shape.headDim(), q, qOff, keys, values, live.length,
                out, 0, new float[Math.max(1, live.length)], null);
        return out;
    }
}
