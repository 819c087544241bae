package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** Properties of the planner's arithmetic, on the testkit. */
class MemoryPlanProperties {

    private static final Gen<KvDType> DTYPES = Gens.oneOf(KvDType.values());
    /** Head dims that hold whole groups of every dtype (multiples of 32). */
    private static final Gen<Integer> HEAD_DIMS = Gens.ints(1, 16).map(g -> g * 32);

    private static final Gen<ModelShape> SHAPES = Gens.zip(Gens.ints(1, 160), Gens.ints(1, 32), Gens.ints(1, 8),
            HEAD_DIMS, (layers, kv, group, dim) -> new int[] {layers, kv, group, dim})
            .flatMap(a -> Gens.zip(Gens.oneOf(AttentionPattern.values()), Gens.ints(1, 16_384),
                    Gens.longs(0, 1_000_000_000_000L), (pattern, window, params) -> new ModelShape("m", a[0],
                            a[1] * a[2], a[1], a[3], pattern == AttentionPattern.GLOBAL ? 0 : window, pattern, params)));

    /** Mostly realistic contexts, sometimes up to the 2^40 limit so the arithmetic must saturate. */
    private static final Gen<Long> CONTEXTS = Gens.booleans()
            .flatMap(huge -> huge ? Gens.longs(0, TokenCount.MAX) : Gens.longs(0, 4_000_000));
    private static final Gen<Long> CONCURRENCIES = Gens.booleans()
            .flatMap(huge -> huge ? Gens.longs(1, 1L << 40) : Gens.longs(1, 256));

    private static final Gen<MemoryPlan> PLANS = Gens.zip(SHAPES, DTYPES, Gens.oneOf(1, 8, 16, 32, 256),
            Gens.elements(WeightFormat.presets()), (shape, dtype, block, weights) -> new Object[] {shape, dtype, block,
                weights})
            .flatMap(a -> Gens.zip(Gens.longs(0, 1L << 34), Gens.longs(1, 1L << 42), CONTEXTS, CONCURRENCIES, (overhead, memory, context, concurrency) -> new MemoryPlan((ModelShape) a[0],
                            (KvDType) a[1], (Integer) a[2], (WeightFormat) a[3], overhead, memory, context, concurrency,
                            512)));

    private static long bytesPerToken(int layers, int kvHeads, int headDim, KvDType d) {
        ModelShape s = ModelShape.of("m", layers, kvHeads, kvHeads, headDim);
        return MemoryPlan.of(s, d, WeightFormat.F16, 1, 1, 1).bytesPerToken();
    }

    @Test
    void bytesPerTokenIsLinearInLayersKvHeadsAndHeadDim() {
        Gen<int[]> two = Gens.zip(Gens.ints(1, 200), Gens.ints(1, 200), (x, y) -> new int[] {x, y});
        Property.forAll(Gens.zip(Gens.ints(1, 128), Gens.ints(1, 64), HEAD_DIMS, (l, h, d) -> new int[] {l, h, d}),
                two, DTYPES).check((base, xy, dtype) -> {
                    int l = base[0];
                    int h = base[1];
                    int d = base[2];
                    int x = xy[0];
                    int y = xy[1];
                    assertEquals(bytesPerToken(x, h, d, dtype) + bytesPerToken(y, h, d, dtype),
                            bytesPerToken(x + y, h, d, dtype), "layers");
                    assertEquals(bytesPerToken(l, x, d, dtype) + bytesPerToken(l, y, d, dtype),
                            bytesPerToken(l, x + y, d, dtype), "kv heads");
                    assertEquals(bytesPerToken(l, h, 32 * x, dtype) + bytesPerToken(l, h, 32 * y, dtype),
                            bytesPerToken(l, h, 32 * (x + y), dtype), "head dim");
                    assertEquals((long) l * bytesPerToken(1, h, d, dtype), bytesPerToken(l, h, d, dtype));
                });
    }

    /** The total recomputed in BigInteger, without saturation, straight from the definitions. */
    private static BigInteger exactTotal(MemoryPlan p) {
        ModelShape s = p.shape();
        long bs = p.blockSize();
        BigInteger perLayerToken = BigInteger.valueOf(2L * s.kvHeads() * s.headDim() * p.kvDtype().bytesPerGroup()
                / p.kvDtype().groupSize());
        long globalBlocks = (p.contextTokens() + bs - 1) / bs;
        long slidingBlocks = Math.min(globalBlocks, (s.slidingWindow() + bs - 1) / bs + 1); // the grouped cache's bound
        BigInteger slots = BigInteger.valueOf(s.globalLayers()).multiply(BigInteger.valueOf(globalBlocks))
                .add(BigInteger.valueOf(s.slidingLayers()).multiply(BigInteger.valueOf(slidingBlocks)))
                .multiply(BigInteger.valueOf(bs));
        BigInteger cache = perLayerToken.multiply(slots).multiply(BigInteger.valueOf(p.concurrency()));
        BigInteger[] weights = BigInteger.valueOf(s.parameters()).multiply(BigInteger.valueOf(p.weights().bitsE4()))
                .divideAndRemainder(BigInteger.valueOf(80_000));
        BigInteger w = weights[0].add(weights[1].signum() > 0 ? BigInteger.ONE : BigInteger.ZERO);
        return BigInteger.valueOf(p.overheadBytes()).add(w).add(cache);
    }

    @Test
    void aPlanThatFitsNeverExceedsTheMemory() {
        Property.forAll(PLANS).check(p -> {
            BigInteger exact = exactTotal(p);
            boolean fitsExactly = exact.compareTo(BigInteger.valueOf(p.memoryBytes())) <= 0;
            assertEquals(fitsExactly, p.fits(), "exact total " + exact);
            if (p.fits()) {
                assertEquals(exact.longValueExact(), p.totalBytes());
                assertTrue(p.headroomBytes() >= 0);
                assertTrue(p.overheadBytes() + p.weightsBytes() + p.cacheBytes() <= p.memoryBytes());
            }
        });
    }

    @Test
    void theLargestContextFitsAndOneMoreTokenDoesNot() {
        Property.forAll(PLANS).check(p -> {
            long max = p.maxContext();
            if (max == MemoryPlan.NONE) {
                assertFalse(p.withContext(0).fits());
            } else if (max == MemoryPlan.UNLIMITED) {
                assertTrue(p.withContext(TokenCount.MAX).fits());
            } else {
                assertTrue(p.withContext(max).fits(), "max " + max + " fits");
                assertFalse(p.withContext(max + 1).fits(), "max + 1 = " + (max + 1) + " does not fit");
                assertEquals(p.contextTokens() <= max, p.fits());
            }
        });
    }

    @Test
    void theLargestConcurrencyFitsAndOneMoreRequestDoesNot() {
        Property.forAll(PLANS).check(p -> {
            long max = p.maxConcurrency();
            if (max == MemoryPlan.UNLIMITED) {
                assertEquals(0, p.cacheBytesPerRequest());
                return;
            }
            if (max > 0) {
                assertTrue(p.withConcurrency(max).fits(), "max " + max + " fits");
            }
            assertFalse(p.withConcurrency(max + 1).fits(), "max + 1 = " + (max + 1) + " does not fit");
            assertEquals(p.concurrency() <= max, p.fits());
        });
    }

    @Test
    void theCacheNeverShrinksAsTheContextGrows() {
        Property.forAll(PLANS, Gens.longs(0, 100_000)).check((p, extra) -> assertTrue(
                p.cacheBytesPerRequest(p.contextTokens() + extra) >= p.cacheBytesPerRequest(p.contextTokens())));
    }

    @Test
    void byteSizesRoundTripThroughTheirBinarySpelling() {
        Property.forAll(Gens.longs(0, 1L << 50)).check(n -> {
            ByteSize b = new ByteSize(n);
            assertEquals(b, ByteSize.parse(b.toString()));
            assertEquals(n, ByteSize.parse(n + "B").bytes());
        });
    }
}
