package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.dtype.KvDType;
import java.io.IOException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class PrefillTest {

    @Test
    void prefillOfAPromptGivesTheTokenByTokenLogitsThroughEveryStore() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.STORIES);
        LlamaConfig c = w.config();
        int[] prompt = new int[45];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (i * 37 + 1) % c.vocabSize();
        }
        assertSameLogits(w, prompt, () -> new ContiguousKvStore(c, c.seqLen()));
        assertSameLogits(w, prompt, () -> new PagedKvStore(c, KvDType.F32, 16, c.seqLen()));
        assertSameLogits(w, prompt, () -> new PagedKvStore(c, KvDType.F32, 3, c.seqLen()));
        assertSameLogits(w, prompt, () -> new MaskedKvStore(c, c.seqLen()));
    }

    @Test
    void anEmptyChunkOrOnePastTheContextIsRejectedWithoutAppending() {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(16, 16, 1, 2, 1, 10, 4, true), 3);
        try (KvStore s = new ContiguousKvStore(w.config(), 4)) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            assertThrows(IllegalArgumentException.class, () -> d.prefill(new int[0]));
            assertThrows(IllegalArgumentException.class, () -> d.prefill(new int[5]));
            assertThrows(IndexOutOfBoundsException.class, () -> d.prefill(new int[] {1, 10}));
            assertEquals(0, s.length());
        }
    }

    private static void assertSameLogits(LlamaWeights w, int[] prompt, Supplier<KvStore> stores) {
        try (KvStore a = stores.get(); KvStore b = stores.get()) {
            LlamaDecoder stepwise = new LlamaDecoder(w, a);
            LlamaDecoder chunked = new LlamaDecoder(w, b);
            float[] expected = null;
            for (int t : prompt) {
                expected = stepwise.forward(t);
            }
            float[] actual = chunked.prefill(prompt);
            assertEquals(prompt.length, b.length());
            assertArrayEquals(expected, actual, 1e-4f, a.getClass().getSimpleName());
            // decoding continues from the prefilled cache exactly as from the stepwise one
            assertArrayEquals(stepwise.forward(5), chunked.forward(5), 1e-4f);
        }
    }
}
