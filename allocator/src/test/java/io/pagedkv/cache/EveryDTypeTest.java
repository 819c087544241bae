package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cache stores every dtype through its codec: what a sequence reads back is exactly what the
 * codec's own encode/decode round trip gives (so the cache adds no error of its own, and the codec's
 * error bound is the cache's), through forks and copy-on-write, and the kernel view holds the
 * codec's bytes.
 */
class EveryDTypeTest {

    static final ModelShape SHAPE = ModelShape.of("q", 2, 4, 2, 64);

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void readbackEqualsTheCodecsOwnRoundTripThroughForkAndCopyOnWrite(KvDType dtype) {
        CacheLayout layout = new CacheLayout(SHAPE, dtype, 4);
        KvCodec codec = KvCodecs.of(dtype);
        int d = SHAPE.headDim();
        int n = SHAPE.kvHeads() * d;
        Random r = new Random(dtype.ordinal());
        int tokens = 7;
        float[][][] k = new float[tokens][SHAPE.layers()][n];
        float[][][] v = new float[tokens][SHAPE.layers()][n];
        try (PagedKvCache cache = new PagedKvCache(layout, 16); Arena arena = Arena.ofConfined()) {
            Sequence s = cache.openSequence();
            s.append(tokens);
            for (int p = 0; p < tokens; p++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int i = 0; i < n; i++) {
                        k[p][l][i] = (float) r.nextGaussian() * 3f;
                        v[p][l][i] = (float) r.nextGaussian();
                    }
                    s.write(l, p, k[p][l], v[p][l]);
                }
            }
            Sequence child = s.fork();
            float[] other = new float[n];
            java.util.Arrays.fill(other, 0.5f);
            child.write(0, 5, other, other); // copy-on-write of block 1
            MemorySegment scratch = arena.allocate(dtype.bytesFor(d));
            float[] want = new float[d];
            float[] got = new float[d];
            for (Sequence seq : new Sequence[] {s, child}) {
                for (int p = 0; p < tokens; p++) {
                    for (int l = 0; l < SHAPE.layers(); l++) {
                        for (int h = 0; h < SHAPE.kvHeads(); h++) {
                            boolean overwritten = seq == child && p == 5 && l == 0;
                            codec.encode(overwritten ? other : k[p][l], h * d, d, scratch, 0);
                            codec.decode(scratch, 0, d, want, 0);
                            seq.readKey(l, h, p, got, 0);
                            assertArrayEquals(want, got, dtype + " key p" + p + " l" + l + " h" + h);
                            byte[] stored = seq.keys(p / 4, l, h)
                                    .asSlice((long) (p % 4) * layout.headBytes(), layout.headBytes())
                                    .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                            assertArrayEquals(scratch.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), stored,
                                    dtype + " stored bytes p" + p);
                            codec.encode(overwritten ? other : v[p][l], h * d, d, scratch, 0);
                            codec.decode(scratch, 0, d, want, 0);
                            seq.readValue(l, h, p, got, 0);
                            assertArrayEquals(want, got, dtype + " value p" + p + " l" + l + " h" + h);
                        }
                    }
                }
            }
            assertEquals(1, cache.stats().copyOnWriteCopies());
        }
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"FP8_E4M3", "FP8_E5M2"})
    void aScaledFp8CodecIsUsedForWritesAndReads(KvDType dtype) {
        CacheLayout layout = new CacheLayout(SHAPE, dtype, 4);
        // 2^-20 underflows to 0 in both FP8 formats unscaled; divided by the scale 2^-12 it is 2^-8
        float tiny = 0x1p-20f;
        KvCodec scaled = KvCodecs.of(dtype, 0x1p-12f);
        try (PagedKvCache cache = new PagedKvCache(layout, 4, scaled)) {
            Sequence s = cache.openSequence();
            s.append(1);
            float[] x = new float[SHAPE.headDim()];
            x[0] = tiny;
            x[1] = -tiny * 2;
            s.writeKey(1, 1, 0, x, 0);
            s.markWritten(1); // a single-head write: the test reads only that head
            float[] got = new float[SHAPE.headDim()];
            s.readKey(1, 1, 0, got, 0);
            assertEquals(tiny, got[0]);
            assertEquals(-tiny * 2, got[1]);
        }
        assertThrows(IllegalArgumentException.class,
                () -> new PagedKvCache(new CacheLayout(SHAPE, KvDType.F16, 4), 4, scaled));
    }
}
