package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The evaluation text is the stored KJV excerpt, byte for byte, and its token ids under aidreams260K's
 * tokenizer are pinned: the streaming and quality figures in docs/streaming.md depend on both.
 */
class EvalTextTest {

    @Test
    void theStoredTextIsGenesisOneToTwelveAsExtracted() throws NoSuchAlgorithmException {
        String text = EvalText.text();
        assertEquals(37_570, text.getBytes(StandardCharsets.UTF_8).length);
        assertEquals("9b5546749cf9265d7f712108ad632a44d5f75285e87d3541afd89648966e9f5e", HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8))));
        List<String> chapters = EvalText.chapters();
        assertEquals(12, chapters.size());
        assertTrue(chapters.get(0).startsWith("In the beginning God created the heaven and the earth."), chapters.get(0));
        assertTrue(chapters.get(11).endsWith("and they sent him away, and his wife, and all that he had."), chapters.get(11));
    }

    @Test
    void theStreamIsBosThenTheChaptersUnderTheModelsTokenizerPinned() throws IOException {
        Tokenizer tok = RealModels.aidreamsTokenizer();
        int[] ids = EvalText.stream(tok, 4096);
        assertEquals(4096, ids.length);
        assertEquals(Tokenizer.BOS, ids[0]);
        assertEquals(-1632634008, Arrays.hashCode(ids), "the token ids the docs' figures were measured on");
        assertEquals(21_467, EvalText.stream(tok, 21_467).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalText.stream(tok, 21_469));
        assertTrue(e.getMessage().contains("tokens: 21469 (expected: <= 21468, the whole text)"), e.getMessage());
    }

    @Test
    void promptsAreDistinctSentenceRunsOfExactlyTheLengthAsked() throws IOException {
        Tokenizer tok = RealModels.aidreamsTokenizer();
        List<int[]> prompts = EvalText.prompts(tok, 64, 128);
        assertEquals(64, prompts.size());
        int hash = 1;
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            assertEquals(128, p.length);
            assertEquals(Tokenizer.BOS, p[0]);
            if (i > 0) {
                assertNotEquals(Arrays.toString(prompts.get(i - 1)), Arrays.toString(p));
            }
            hash = 31 * hash + Arrays.hashCode(p);
        }
        assertEquals(984706065, hash, "the prompts the docs' quality table was measured on");
        assertTrue(tok.decode(Tokenizer.BOS, Arrays.copyOfRange(prompts.get(0), 1, 12)).startsWith("In the beginning"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalText.prompts(tok, 200, 128));
        assertTrue(e.getMessage().contains("count: 200 prompts of 128 tokens (expected: <= 121"), e.getMessage());
    }
}
