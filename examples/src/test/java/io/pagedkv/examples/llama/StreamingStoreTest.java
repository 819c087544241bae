package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.Budget;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.StandardPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Issue 22 items 1-3 and must-show 2: a stream runs past the model's context through an {@link
 * EvictingKvStore} whose memory stays within the budget at every step of prefill and decode, a
 * prompt longer than the budget is prefilled in chunks with evictions between them, and the paged
 * path decides and computes what the masked reference does chunk by chunk.
 */
class StreamingStoreTest {

    /** A store that checks the budget after every placement: each prefill chunk and each decode step. */
    private static final class BoundChecked implements KvStore {
        private final EvictingKvStore s;
        private final int budget;
        private final int blocks;
        private int checks;
        private int chunks;

        BoundChecked(EvictingKvStore s, int budget, int blockSize) {
            this.s = s;
            this.budget = budget;
            this.blocks = (budget + blockSize - 1) / blockSize;
        }

        private void check(int n) {
            checks++;
            chunks += n > 1 ? 1 : 0;
            assertTrue(s.liveTokens() <= budget, "after placing " + n + " at length " + s.length() + ": "
                    + s.liveTokens() + " tokens > budget " + budget);
            assertTrue(s.blocks() <= blocks, "after placing " + n + ": " + s.blocks() + " blocks > " + blocks);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public int capacity() {
            return s.capacity();
        }

        @Override
        public int ropePosition(int position) {
            return s.ropePosition(position);
        }

        @Override
        public void append() {
            s.append();
            check(1);
        }

        @Override
        public void append(int n) {
            s.append(n);
            check(n);
        }

        @Override
        public int maxChunk() {
            return s.maxChunk();
        }

        @Override
        public void write(int layer, int position, float[] keys, float[] values) {
            s.write(layer, position, keys, values);
        }

        @Override
        public void attend(int layer, float[] q, float[] out) {
            s.attend(layer, q, out);
        }

        @Override
        public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
            s.attendChunk(layer, start, count, q, out);
        }

        @Override
        public String statistics() {
            return s.statistics();
        }

        @Override
        public void close() {
            s.close();
        }
    }

    private static List<Supplier<EvictionPolicy>> policies(int budget) {
        List<Supplier<EvictionPolicy>> list = new ArrayList<>();
        for (StandardPolicy p : StandardPolicy.values()) {
            list.add(() -> p.create(budget));
        }
        list.add(() -> new AttentionSinks(Budget.tokens(budget), 4, 16)); // block-granular: whole blocks of 16 at a time
        return list;
    }

    @Test
    void memoryStaysWithinTheBudgetAtEveryStepOfPrefillAndDecodeFarPastTheContext() {
        LlamaConfig c = new LlamaConfig(32, 48, 2, 4, 2, 40, 32, false); // context 32
        LlamaWeights w = SeededWeights.generate(c, 3);
        int budget = 32;
        int[] tokens = new SplittableRandom(4).ints(420, 0, 40).toArray();
        for (Supplier<EvictionPolicy> policy : policies(budget)) {
            for (RotaryMode mode : RotaryMode.values()) {
                EvictionPolicy p = policy.get();
                try (BoundChecked store = new BoundChecked(new EvictingKvStore(c, KvDType.F32, 16, 420, p, mode), budget, 16)) {
                    LlamaDecoder d = new LlamaDecoder(w, store);
                    d.prefill(tokens, 0, 100); // a prompt of 100 tokens through a budget of 32
                    int prefill = store.checks;
                    for (int t = 100; t < 420; t++) { // 320 decode steps, to position 419: 13 contexts
                        d.forward(tokens[t]);
                    }
                    String what = p.name() + " " + mode;
                    assertTrue(prefill >= 4 && store.chunks >= 1, what + ": the prompt went in " + prefill + " placements");
                    assertEquals(prefill + 320, store.checks, what + ": every placement checked");
                    assertEquals(420, store.length(), what);
                    assertTrue(store.s.peakTokens() <= budget, what);
                    assertEquals(2, store.s.blockLimit(), what + ": the pool holds exactly the blocks of the budget");
                    assertEquals(420 - store.s.liveTokens(), store.s.evictedTokens(), what);
                }
            }
        }
    }

    /**
     * A KJV prompt of 200 tokens (budget 32: chunks with evictions between them) then 100 decode
     * steps, teacher-forced: at every chunk and step the paged path keeps the tokens the masked
     * reference keeps, and gives its logits within 1e-5 relative.
     */
    @Test
    void aPromptLongerThanTheBudgetIsPrefilledInChunksAsTheMaskedReferenceDoesIt() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        int[] tokens = EvalText.stream(RealModels.aidreamsTokenizer(), 300);
        int budget = 32;
        for (Supplier<EvictionPolicy> policy : policies(budget)) {
            for (RotaryMode mode : RotaryMode.values()) {
                EvictionPolicy pagedPolicy = policy.get();
                String what = pagedPolicy.name() + " " + mode;
                try (MaskedReference ref = new MaskedReference(w, policy.get(), tokens.length, mode);
                        EvictingKvStore paged = new EvictingKvStore(w.config(), KvDType.F32, 16, tokens.length, pagedPolicy, mode)) {
                    LlamaDecoder d = new LlamaDecoder(w, paged);
                    int done = 0;
                    float[] expected = null;
                    int chunks = 0;
                    while (done < 200) {
                        int m = Math.min(200 - done, ref.policy().maxIncoming());
                        assertEquals(m, Math.min(200 - done, paged.maxChunk()), what);
                        expected = ref.chunk(tokens, done, m).clone();
                        float[] actual = d.prefill(tokens, done, m);
                        done += m;
                        chunks++;
                        assertSame(ref, paged, done, what + " after chunk " + chunks);
                        assertClose(expected, actual, what + " after chunk " + chunks);
                    }
                    assertTrue(chunks >= 3, what + ": " + chunks + " chunks");
                    for (int t = 200; t < tokens.length; t++) {
                        expected = ref.step(tokens[t]).clone();
                        float[] actual = d.forward(tokens[t]);
                        assertSame(ref, paged, t + 1, what + " step " + t);
                        assertClose(expected, actual, what + " step " + t);
                    }
                    assertTrue(paged.peakTokens() <= budget, what);
                }
            }
        }
    }

    @Test
    void aChunkLargerThanOneEvictionCanMakeRoomForIsRefusedAndChangesNothing() {
        LlamaConfig c = new LlamaConfig(32, 48, 2, 4, 2, 40, 32, false);
        try (EvictingKvStore s = new EvictingKvStore(c, KvDType.F32, 16, 100, StandardPolicy.H2O.create(16), RotaryMode.CACHE)) {
            s.append(16);
            assertEquals(8, s.maxChunk(), "h2o(16, recent 8): a chunk can only replace the 8 candidates");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.append(9));
            assertTrue(e.getMessage().contains("n: 9 (expected: 1 <= n <= maxChunk 8)"), e.getMessage());
            assertEquals(16, s.length());
            assertEquals(16, s.liveTokens());
            s.append(8);
            assertEquals(24, s.length());
            assertEquals(16, s.liveTokens());
            IllegalStateException full = assertThrows(IllegalStateException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    s.append();
                }
            });
            assertTrue(full.getMessage().contains("(expected: <= capacity 100)"), full.getMessage());
            assertEquals(100, s.length());
        }
    }

    private static void assertSame(MaskedReference ref, EvictingKvStore paged, int length, String what) {
        assertEquals(length, paged.length(), what);
        for (int p = 0; p < length; p++) {
            if (ref.store().isLive(p) != paged.isKept(p)) {
                throw new AssertionError(what + ": position " + p + " kept by the masked reference: " + ref.store().isLive(p)
                        + ", by the paged path: " + paged.isKept(p));
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double max = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs((double) actual[i] - expected[i]));
        }
        assertTrue(diff <= 1e-5 * max, what + ": relative logit difference " + diff / max);
    }
}
