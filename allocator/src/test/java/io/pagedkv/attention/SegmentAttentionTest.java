package io.pagedkv.attention;

import static io.pagedkv.attention.PagedAttentionTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The contiguous-segment kernel: the same loops as the paged one, over one segment per KV head. */
class SegmentAttentionTest {

    @Test
    void segmentAttentionOfEveryDtypeEqualsTheOracleOverTheDecodedValues() {
        SplittableRandom r = new SplittableRandom(31);
        for (int trial = 0; trial < 60; trial++) {
            KvDType dtype = KvDType.values()[trial % KvDType.values().length];
            int headDim = dtype.isBlockQuantized() ? 32 * (1 + r.nextInt(3)) : new int[] {4, 8, 16, 24, 64}[r.nextInt(5)];
            int kvHeads = 1 + r.nextInt(2);
            ModelShape shape = ModelShape.of("t", 1, kvHeads * (1 + r.nextInt(4)), kvHeads, headDim);
            int tokens = r.nextInt(70);
            KvCodec codec = KvCodecs.of(dtype);
            int headBytes = dtype.bytesFor(headDim);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment[] k = new MemorySegment[kvHeads];
                MemorySegment[] v = new MemorySegment[kvHeads];
                int kvDim = kvHeads * headDim;
                float[] keys = new float[tokens * kvDim];
                float[] values = new float[tokens * kvDim];
                float[] src = new float[headDim];
                for (int h = 0; h < kvHeads; h++) {
                    k[h] = arena.allocate((long) tokens * headBytes + 1); // exactly the tokens (+1 so 0 tokens is a segment)
                    v[h] = arena.allocate((long) tokens * headBytes + 1);
                    for (int t = 0; t < tokens; t++) {
                        for (MemorySegment seg : new MemorySegment[] {k[h], v[h]}) {
                            for (int i = 0; i < headDim; i++) {
                                src[i] = (float) r.nextGaussian();
                            }
                            codec.encode(src, 0, headDim, seg, (long) t * headBytes);
                            codec.decode(seg, (long) t * headBytes, headDim, seg == k[h] ? keys : values, t * kvDim + h * headDim);
                        }
                    }
                }
                float[] q = PagedAttentionTest.randomQuery(r, shape);
                float[] expected = new float[q.length];
                float[] expectedWeights = new float[shape.queryHeads() * tokens];
                ContiguousAttention.decode(shape.queryHeads(), kvHeads, headDim, q, 0, keys, values, tokens, expected, 0,
                        new float[tokens], expectedWeights);
                for (SegmentAttention a : new SegmentAttention[] {SegmentAttention.scalar(shape, dtype),
                        SegmentAttention.create(shape, dtype)}) {
                    float[] out = new float[q.length];
                    float[] weights = new float[shape.queryHeads() * tokens];
                    a.decode(k, v, tokens, q, 0, out, 0, weights);
                    assertClose(expected, out, 1e-5f, a.loops() + " " + dtype + " " + shape + " tokens " + tokens);
                    assertClose(expectedWeights, weights, 1e-5f, a.loops() + " weights");
                }
            }
        }
    }

    @Test
    void aSegmentShorterThanTheTokensIsRejectedNamingItsSize() {
        ModelShape shape = ModelShape.of("t", 1, 2, 1, 8);
        SegmentAttention a = SegmentAttention.create(shape, KvDType.F32);
        MemorySegment small = Arena.ofAuto().allocate(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.decode(new MemorySegment[] {small}, new MemorySegment[] {small}, 3, new float[16], 0, new float[16], 0, null));
        assertTrue(e.getMessage().contains("keys[0]: 64 bytes (expected: >= tokens x head bytes = 96)"), e.getMessage());
    }
}
