package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LlamaDecoderTest {

    private static final LlamaConfig GQA = new LlamaConfig(32, 48, 2, 4, 2, 40, 24, false);

    @Test
    void sameWeightsAndPromptGiveTheSameIdsAndDifferentSeedsOftenDiffer() {
        LlamaWeights w = SeededWeights.generate(GQA, 1);
        int[] a = run(w, 0f, 0);
        int[] b = run(w, 0f, 0);
        assertArrayEquals(a, b);
        int[] s1 = run(w, 1f, 1);
        assertArrayEquals(s1, run(w, 1f, 1), "sampling is reproducible from its seed");
        assertNotEquals(java.util.Arrays.toString(s1), java.util.Arrays.toString(run(w, 1f, 2)));
    }

    @Test
    void firstPositionAttendsOnlyToItselfSoOutputIsTheValue() {
        // one token: softmax over one score is 1, attention returns the value vector of that token
        LlamaWeights w = SeededWeights.generate(GQA, 3);
        float[] q = new float[GQA.dim()];
        float[] k = new float[GQA.kvDim()];
        float[] v = new float[GQA.kvDim()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i - 3.5f;
            k[i] = i * 0.1f;
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = 1f - i * 0.05f;
        }
        try (ContiguousKvStore s = new ContiguousKvStore(w.config(), 4)) {
            s.append();
            s.write(1, 0, k, v);
            float[] out = new float[GQA.dim()];
            s.attend(1, q, out);
            int hs = GQA.headSize();
            for (int h = 0; h < GQA.heads(); h++) {
                int kvh = h / 2;
                for (int i = 0; i < hs; i++) {
                    assertEquals(v[kvh * hs + i], out[h * hs + i], 1e-6f, "head " + h + " dim " + i);
                }
            }
        }
    }

    @Test
    void logitsDependOnEarlierTokensThroughTheCache() {
        LlamaWeights w = SeededWeights.generate(GQA, 4);
        float[] after5;
        float[] after6;
        try (KvStore s = new ContiguousKvStore(GQA, GQA.seqLen())) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            d.forward(5);
            after5 = d.forward(7).clone();
        }
        try (KvStore s = new ContiguousKvStore(GQA, GQA.seqLen())) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            d.forward(6);
            after6 = d.forward(7).clone();
        }
        assertNotEquals(java.util.Arrays.toString(after5), java.util.Arrays.toString(after6));
    }

    @Test
    void rejectsTokensOutsideTheVocabularyAndAFullContextWithoutChangingTheStore() {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(8, 8, 1, 2, 1, 10, 2, true), 5);
        try (KvStore s = new ContiguousKvStore(w.config(), 2)) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> d.forward(10));
            assertTrue(e.getMessage().contains("token: 10 (expected: 0 <= token < 10)"), e.getMessage());
            assertEquals(0, s.length());
            d.forward(1);
            d.forward(2);
            IllegalStateException full = assertThrows(IllegalStateException.class, () -> d.forward(3));
            assertTrue(full.getMessage().contains("position: 2 (expected: < capacity 2)"), full.getMessage());
            assertEquals(2, s.length());
        }
    }

    @Test
    void positionsAreBoundedByTheStoreNotByTheModelsContext() {
        LlamaConfig c = new LlamaConfig(16, 24, 1, 2, 1, 12, 8, true); // context 8
        LlamaWeights w = SeededWeights.generate(c, 7);
        try (KvStore small = new ContiguousKvStore(c, 8); KvStore big = new ContiguousKvStore(c, 40)) {
            LlamaDecoder ds = new LlamaDecoder(w, small);
            LlamaDecoder db = new LlamaDecoder(w, big);
            for (int t = 0; t < 8; t++) {
                assertArrayEquals(ds.forward(t % 12), db.forward(t % 12), 0f, "step " + t + ": the same angles");
            }
            for (int t = 8; t < 40; t++) {
                for (float v : db.forward(t % 12)) {
                    assertTrue(Float.isFinite(v), "position " + t);
                }
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> db.forward(1));
            assertTrue(e.getMessage().contains("position: 40 (expected: < capacity 40)"), e.getMessage());
        }
    }

    private static int[] run(LlamaWeights w, float temperature, long seed) {
        LlamaConfig c = w.config();
        try (KvStore s = new ContiguousKvStore(c, c.seqLen())) {
            return Generation.run(new LlamaDecoder(w, s), new Sampler(c.vocabSize(), temperature, seed),
                    new int[] {Tokenizer.BOS}, c.seqLen(), false, id -> { });
        }
    }
}
