package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.workload.TraceRequest;
import org.junit.jupiter.api.Test;

/** The paged strategy over the real cache: exact full-scale block accounting, real writes at reduced scale. */
class PagedStrategyTest {

    private static final CacheLayout LLAMA_Q8 = new CacheLayout(ModelPresets.byName("llama-3.1-8b"), KvDType.Q8_0, 16);

    private static SimRequest request(int id, int prompt, int output) {
        return new SimRequest(new TraceRequest(id, id, 0, prompt, output, output, 0, null));
    }

    @Test
    void whatAdmissionAndDecodeWroteReadsBackWithinQ8Error() {
        try (PagedStrategy s = new PagedStrategy(LLAMA_Q8, 10 * LLAMA_Q8.bytesPerBlock())) {
            SimRequest r = request(3, 20, 30);
            assertEquals(0, s.admit(r));
            r.admitted(0);
            for (int i = 0; i < 5; i++) {
                assertTrue(s.append(r));
                r.generatedOne();
            }
            assertEquals(25, s.sequenceOf(r).length());
            assertEquals(2, s.stats().usedBlocks(), "25 tokens in 16-token blocks");
            float[] key = new float[PagedStrategy.SCALED_HEAD_DIM];
            for (int p = 0; p < 25; p++) {
                s.sequenceOf(r).readKey(0, 0, p, key, 0);
                for (int i = 0; i < key.length; i++) {
                    // Q8_0 rounds to 1/127 of the group's largest magnitude (<= 1): error <= 0.5/127.
                    assertEquals(PagedStrategy.syntheticKey(3, p, i), key[i], 0.5 / 127 + 1e-6, "token " + p + " dim " + i);
                }
            }
            assertEquals(25, s.tokensWritten());
            s.release(r);
            r.released();
            s.checkDrained();
        }
    }

    @Test
    void admissionNeedsRoomForTheFirstGeneratedTokenAndRefusesWithoutChange() {
        try (PagedStrategy s = new PagedStrategy(LLAMA_Q8, 2 * LLAMA_Q8.bytesPerBlock() + 5)) {
            assertEquals(2, s.totalBlocks(), "the odd 5 bytes make no block");
            SimRequest r = request(0, 32, 4); // 32 prompt tokens fill 2 blocks; the first output needs a third
            assertEquals(KvAllocationStrategy.NO_ROOM, s.admit(r));
            assertEquals(0, s.reservedBytes());
            assertEquals(2, s.stats().freeBlocks());
            SimRequest small = request(1, 31, 4);
            assertEquals(0, s.admit(small));
            small.admitted(0);
            assertEquals(2 * LLAMA_Q8.bytesPerBlock(), s.reservedBytes());
            assertTrue(s.append(small)); // token 32 fills block 2
            small.generatedOne();
            assertFalse(s.append(small), "a 33rd token needs a third block");
            assertEquals(32, s.sequenceOf(small).length(), "a refused append changes nothing");
            s.release(small);
            s.checkDrained();
        }
    }

    @Test
    void scaleIsTheRatioOfFullToStoredBlockBytes() {
        try (PagedStrategy s = new PagedStrategy(LLAMA_Q8, LLAMA_Q8.bytesPerBlock())) {
            // llama-3.1-8b: 32 layers x 8 KV heads x 128 dims vs 1 x 1 x 32: 1024x.
            assertEquals(1024, s.scale());
            assertEquals(LLAMA_Q8.bytesPerBlock(), s.scale() * s.storageLayout().bytesPerBlock());
        }
    }
}
