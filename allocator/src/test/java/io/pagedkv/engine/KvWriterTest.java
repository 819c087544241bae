package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Bulk writes from every source dtype into every cache dtype, and refusals that change nothing. */
class KvWriterTest {

    static final ModelShape SHAPE = ModelShape.of("small", 3, 4, 2, 32);
    static final int WIDTH = SHAPE.kvHeads() * SHAPE.headDim();

    /** {@code count} tokens of K or V for one layer as source bytes, and the floats they encode. */
    record Source(MemorySegment bytes, float[] floats) {
        static Source random(KvDType dtype, int count, SplittableRandom rnd, Arena arena) {
            float[] f = new float[count * WIDTH];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) rnd.nextGaussian();
            }
            KvCodec codec = KvCodecs.of(dtype);
            MemorySegment seg = arena.allocate((long) dtype.bytesFor(SHAPE.headDim()) * SHAPE.kvHeads() * count);
            for (int v = 0; v < count * SHAPE.kvHeads(); v++) {
                codec.encode(f, v * SHAPE.headDim(), SHAPE.headDim(), seg, (long) v * dtype.bytesFor(SHAPE.headDim()));
            }
            for (int v = 0; v < count * SHAPE.kvHeads(); v++) { // what the source really holds
                codec.decode(seg, (long) v * dtype.bytesFor(SHAPE.headDim()), SHAPE.headDim(), f, v * SHAPE.headDim());
            }
            return new Source(seg, f);
        }
    }

    @Test
    void everySourceDtypeIntoEveryCacheDtypeReadsBackAsTheCacheCodecsRoundTripOfTheSourceInBothBlockOrders() {
        for (BlockOrder order : BlockOrder.values()) {
            everySourceDtypeIntoEveryCacheDtype(order);
        }
    }

    private static void everySourceDtypeIntoEveryCacheDtype(BlockOrder order) {
        SplittableRandom rnd = new SplittableRandom(7);
        for (KvDType cacheType : new KvDType[] {KvDType.F32, KvDType.F16, KvDType.BF16, KvDType.Q8_0, KvDType.FP8_E4M3}) {
            for (KvDType source : new KvDType[] {KvDType.F32, KvDType.F16, KvDType.BF16}) {
                CacheLayout layout = new CacheLayout(SHAPE, cacheType, 8, order);
                try (PagedKvCache cache = new PagedKvCache(layout, 16); Arena arena = Arena.ofConfined()) {
                    StepPlanner planner = new StepPlanner(cache, 0);
                    KvWriter w = planner.newWriter();
                    int[] ids = StepPlannerTest.ids(30, 1);
                    StepSequence s = planner.admit(ids, 19, PrefixKeys.NONE);
                    Source[][] k = new Source[2][SHAPE.layers()];
                    Source[][] v = new Source[2][SHAPE.layers()];
                    int[][] chunk = {{0, 13}, {13, 6}}; // two steps: 13 tokens, then 6 (over block boundaries)
                    for (int st = 0; st < 2; st++) {
                        int start = chunk[st][0];
                        int count = chunk[st][1];
                        assertTrue(planner.schedule(s, ids, start, count));
                        StepPlan plan = planner.plan();
                        for (int l = 0; l < SHAPE.layers(); l++) {
                            k[st][l] = Source.random(source, count, rnd, arena);
                            v[st][l] = Source.random(source, count, rnd, arena);
                            // in two pieces, as two calls of one worker
                            long tokenBytes = (long) source.bytesFor(SHAPE.headDim()) * SHAPE.kvHeads();
                            w.write(plan, 0, l, 0, 2, source, k[st][l].bytes(), 0, v[st][l].bytes(), 0);
                            w.write(plan, 0, l, 2, count - 2, source, k[st][l].bytes(), 2 * tokenBytes, v[st][l].bytes(),
                                    2 * tokenBytes);
                        }
                        assertEquals(1, planner.complete(plan));
                    }
                    float[] want = new float[SHAPE.headDim()];
                    float[] got = new float[SHAPE.headDim()];
                    MemorySegment tmp = arena.allocate(cacheType.bytesFor(SHAPE.headDim()));
                    for (int st = 0; st < 2; st++) {
                        for (int l = 0; l < SHAPE.layers(); l++) {
                            for (int i = 0; i < chunk[st][1]; i++) {
                                int pos = chunk[st][0] + i;
                                for (int h = 0; h < SHAPE.kvHeads(); h++) {
                                    for (int kv = 0; kv < 2; kv++) {
                                        float[] src = (kv == 0 ? k : v)[st][l].floats();
                                        KvCodec codec = cache.codec(l, kv, h);
                                        codec.encode(src, i * WIDTH + h * SHAPE.headDim(), SHAPE.headDim(), tmp, 0);
                                        codec.decode(tmp, 0, SHAPE.headDim(), want, 0);
                                        if (kv == 0) {
                                            s.readKey(l, h, pos, got, 0);
                                        } else {
                                            s.readValue(l, h, pos, got, 0);
                                        }
                                        assertArrayEquals(want, got, order + " " + cacheType + " from " + source + " layer " + l
                                                + " pos " + pos + " head " + h + " kv " + kv);
                                    }
                                }
                            }
                        }
                    }
                    assertEquals(19, s.writtenTokens());
                }
            }
        }
    }

    @Test
    void aValueAQuantizedCacheCannotEncodeIsRefusedBeforeAnyByteOrMarkMoves() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.Q8_0, 8);
        try (PagedKvCache cache = new PagedKvCache(layout, 8); Arena arena = Arena.ofConfined()) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] ids = StepPlannerTest.ids(12, 2);
            StepSequence s = planner.admit(ids, 12, PrefixKeys.NONE);
            assertTrue(planner.schedule(s, ids, 0, 12));
            StepPlan plan = planner.plan();
            byte[] before = cache.block(s.blockId(0)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            float[] keys = new float[12 * WIDTH];
            float[] values = new float[12 * WIDTH];
            values[11 * WIDTH + 5] = Float.NaN; // the last token's V
            assertThrows(IllegalArgumentException.class, () -> w.write(plan, 0, 0, 0, 12, keys, 0, values, 0));
            Source src = Source.random(KvDType.F32, 12, new SplittableRandom(3), arena);
            src.bytes().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 10L * WIDTH + 3, Float.POSITIVE_INFINITY);
            assertThrows(IllegalArgumentException.class,
                    () -> w.write(plan, 0, 1, 0, 12, KvDType.F32, src.bytes(), 0, src.bytes(), 0));
            assertThrows(IllegalArgumentException.class, () -> w.writeLayer(plan, 2, KvDType.F32, src.bytes(), src.bytes()));
            assertArrayEquals(before, cache.block(s.blockId(0)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    "not a byte written");
            for (int l = 0; l < SHAPE.layers(); l++) {
                assertEquals(0, plan.readableTokens(0, l));
            }
            values[11 * WIDTH + 5] = 1f;
            w.write(plan, 0, 0, 0, 12, keys, 0, values, 0); // the same call, now valid
            assertEquals(12, plan.readableTokens(0, 0));
            planner.complete(plan);
        }
    }

    @Test
    void writeLayerFillsEveryRowOfTheBatchLikeReshapeAndCacheInBothBlockOrders() {
        for (BlockOrder order : BlockOrder.values()) {
            writeLayerFillsEveryRow(order);
        }
    }

    private static void writeLayerFillsEveryRow(BlockOrder order) {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.F16, 4, order);
        try (PagedKvCache cache = new PagedKvCache(layout, 32); Arena arena = Arena.ofConfined()) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[][] ids = {StepPlannerTest.ids(9, 3), StepPlannerTest.ids(2, 4), StepPlannerTest.ids(6, 5)};
            StepSequence[] seqs = new StepSequence[3];
            for (int i = 0; i < 3; i++) {
                seqs[i] = planner.admit(ids[i], ids[i].length, PrefixKeys.NONE);
                assertTrue(planner.schedule(seqs[i], ids[i], 0, ids[i].length));
            }
            StepPlan plan = planner.plan();
            assertEquals(17, plan.tokens());
            Source[] k = new Source[SHAPE.layers()];
            Source[] v = new Source[SHAPE.layers()];
            SplittableRandom rnd = new SplittableRandom(9);
            for (int l = 0; l < SHAPE.layers(); l++) {
                k[l] = Source.random(KvDType.F16, 17, rnd, arena);
                v[l] = Source.random(KvDType.F16, 17, rnd, arena);
                w.writeLayer(plan, l, KvDType.F16, k[l].bytes(), v[l].bytes());
            }
            int[] starts = java.util.Arrays.copyOf(plan.queryStartLoc(), 4);
            assertEquals(3, planner.complete(plan));
            float[] got = new float[SHAPE.headDim()];
            for (int r = 0; r < 3; r++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int i = 0; i < ids[r].length; i++) {
                        int q = starts[r] + i;
                        for (int h = 0; h < SHAPE.kvHeads(); h++) {
                            seqs[r].readValue(l, h, i, got, 0);
                            float[] want = java.util.Arrays.copyOfRange(v[l].floats(), q * WIDTH + h * SHAPE.headDim(),
                                    q * WIDTH + (h + 1) * SHAPE.headDim());
                            assertArrayEquals(want, got, order + ": F16 into F16 is a byte copy: row " + r + " layer " + l);
                        }
                    }
                }
            }
        }
    }
}
