package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import org.junit.jupiter.api.Test;

/** The decoder over pagedkv against the decoder over plain arrays, on seeded models of random shapes. */
class PagedDecoderProperties {

    /** Random small Llama shapes: heads, KV heads dividing them, even head size, context up to 40. */
    static Gen<LlamaConfig> configs() {
        return Gens.zip(Gens.ints(1, 4), Gens.ints(1, 3), Gens.ints(1, 8), Gens.ints(1, 2),
                        (kvHeads, group, halfHead, layers) -> new int[] {kvHeads, group, halfHead, layers})
                .flatMap(a -> Gens.zip(Gens.ints(2, 40), Gens.ints(3, 30), Gens.booleans(), (seqLen, vocab, shared) -> {
                    int heads = a[0] * a[1];
                    int dim = heads * 2 * a[2];
                    return new LlamaConfig(dim, dim + 8, a[3], heads, a[0], vocab, seqLen, shared);
                }));
    }

    @Test
    void greedyDecodingThroughThePagedF32CachePicksTheContiguousTokensWithLogitsWithin1e5() {
        Property.forAll(configs(), Gens.ints(1, 9), Gens.longs(0, Long.MAX_VALUE)).tries(Math.max(10, tries() / 4))
                .check((c, blockSize, seed) -> {
                    LlamaWeights w = SeededWeights.generate(c, seed);
                    try (KvStore ref = new ContiguousKvStore(c, c.seqLen());
                         PagedKvStore paged = new PagedKvStore(c, KvDType.F32, blockSize, c.seqLen())) {
                        Lockstep.Result r = Lockstep.run(new LlamaDecoder(w, ref), new LlamaDecoder(w, paged), c.seqLen());
                        assertTrue(r.identical(), c + " block " + blockSize + ": first divergence at " + r.firstDivergence());
                        assertTrue(r.maxRelativeError() <= 1e-5, c + ": relative logit error " + r.maxRelativeError());
                        assertEquals(c.seqLen(), paged.length());
                        assertEquals((c.seqLen() + blockSize - 1) / blockSize, paged.cache().stats().usedBlocks(),
                                "blocks grow with the sequence, never ahead of it");
                    }
                });
    }

    private static int tries() {
        return Integer.getInteger("pagedkv.tries", 100);
    }
}
