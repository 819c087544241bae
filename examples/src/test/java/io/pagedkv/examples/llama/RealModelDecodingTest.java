package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RealModelDecodingTest {

    @Test
    void aidreamsGreedyFromBosWritesReadableEnglish() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        Tokenizer tok = RealModels.aidreamsTokenizer();
        LlamaConfig c = w.config();
        int[] ids;
        try (KvStore store = new ContiguousKvStore(c, c.seqLen())) {
            ids = Generation.run(new LlamaDecoder(w, store), new Sampler(c.vocabSize(), 0f, 0),
                    new int[] {Tokenizer.BOS}, c.seqLen(), true, id -> { });
        }
        String text = tok.decode(Tokenizer.BOS, Arrays.copyOfRange(ids, 1, ids.length));
        long letters = text.chars().filter(ch -> Character.isLetter(ch) || ch == ' ').count();
        assertTrue(text.length() > 200, "text of " + text.length() + " chars: " + text);
        assertTrue(letters >= 0.85 * text.length(), "mostly letters and spaces: " + letters + " of " + text.length()
                + " in: " + text);
        assertTrue(text.chars().allMatch(ch -> ch < 128), "ASCII only: " + text);
        Set<String> words = new HashSet<>(Arrays.asList(text.toLowerCase(Locale.ROOT).split("[^a-z]+")));
        long common = List.of("the", "a", "of", "and", "as", "i", "my", "in", "to").stream().filter(words::contains).count();
        assertTrue(common >= 4, "at least 4 common English words in: " + text);
    }

    @Test
    void stories260kDecodesItsWholeContextWithGroupedQueryAttention() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.STORIES);
        LlamaConfig c = w.config();
        assertEquals(8, c.heads());
        assertEquals(4, c.kvHeads(), "2 query heads per KV head");
        int[] ids;
        try (KvStore store = new ContiguousKvStore(c, c.seqLen())) {
            ids = Generation.run(new LlamaDecoder(w, store), new Sampler(c.vocabSize(), 0f, 0),
                    new int[] {Tokenizer.BOS}, c.seqLen(), false, id -> { });
            assertTrue(store.length() > 1, "decoded " + store.length() + " positions");
        }
        assertTrue(Arrays.stream(ids).allMatch(id -> id >= 0 && id < c.vocabSize()));
        assertTrue(Arrays.stream(ids).distinct().count() > 20, "a varied sequence: " + Arrays.toString(ids));
    }
}
