package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {

    /** unk, bos, eos, 256 byte tokens, then: " ", "a", "b", "c", "ab", "bc", "abc", " a". */
    private static Tokenizer small() {
        List<byte[]> pieces = new ArrayList<>();
        pieces.add("<unk>".getBytes(StandardCharsets.UTF_8));
        pieces.add("\n<s>\n".getBytes(StandardCharsets.UTF_8));
        pieces.add("\n</s>\n".getBytes(StandardCharsets.UTF_8));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b).getBytes(StandardCharsets.UTF_8));
        }
        String[] extra = {" ", "a", "b", "c", "ab", "bc", "abc", " a"};
        float[] extraScores = {0, 0, 0, 0, -5, -1, -2, -9};
        float[] scores = new float[259 + extra.length];
        for (int i = 0; i < extra.length; i++) {
            pieces.add(extra[i].getBytes(StandardCharsets.UTF_8));
            scores[259 + i] = extraScores[i];
        }
        return new Tokenizer(pieces, scores);
    }

    @Test
    void mergesTheHighestScoringPairFirstAsLlama2cDoes() {
        Tokenizer t = small();
        // " abc" -> [" ", "a", "b", "c"]: pairs " a"(-9), "ab"(-5), "bc"(-1): "bc" wins -> [" ","a","bc"],
        // then "abc"(-2) beats " a"(-9) -> [" ", "abc"]; " abc" is not in the vocabulary.
        assertArrayEquals(new int[] {Tokenizer.BOS, 259, 265}, t.encode("abc", true));
    }

    @Test
    void fallsBackToByteTokensForCodePointsOutsideTheVocabulary() {
        Tokenizer t = small();
        byte[] utf8 = "é".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(new int[] {259, 3 + (utf8[0] & 0xFF), 3 + (utf8[1] & 0xFF)}, t.encode("é", false));
    }

    @Test
    void decodesByteTokensBackToUtf8AndDropsTheSpaceAfterBos() {
        Tokenizer t = small();
        int[] ids = t.encode("é abc", true);
        assertEquals("é abc", t.decode(ids[0], java.util.Arrays.copyOfRange(ids, 1, ids.length)));
    }

    @Test
    void emptyTextIsOnlyBos() {
        assertArrayEquals(new int[] {Tokenizer.BOS}, small().encode("", true));
    }

    @Test
    void realTokenizerRoundTripsEnglishTextInFewerTokensThanBytes() throws IOException {
        Tokenizer t = RealModels.aidreamsTokenizer();
        String text = "I sense the gentle hum of vectors, and the nodes unfold.";
        int[] ids = t.encode(text, true);
        assertEquals(Tokenizer.BOS, ids[0]);
        assertTrue(ids.length < text.length() / 2, "BPE merges: " + ids.length + " tokens for " + text.length() + " chars");
        assertEquals(text, t.decode(Tokenizer.BOS, java.util.Arrays.copyOfRange(ids, 1, ids.length)));
    }
}
