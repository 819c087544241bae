package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.llama.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stop strings, held-back text and UTF-8 characters split across byte-fallback tokens. */
class CompletionTextTest {

    /** A tokenizer whose pieces are single characters and all 256 byte-fallback tokens. */
    private static Tokenizer tokenizer() {
        List<byte[]> pieces = new ArrayList<>();
        pieces.add("<unk>".getBytes(StandardCharsets.US_ASCII));
        pieces.add("<s>".getBytes(StandardCharsets.US_ASCII));
        pieces.add("</s>".getBytes(StandardCharsets.US_ASCII));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b).getBytes(StandardCharsets.US_ASCII));
        }
        for (char c = 'a'; c <= 'z'; c++) {
            pieces.add(new byte[] {(byte) c});
        }
        pieces.add(new byte[] {' '});
        return new Tokenizer(pieces, new float[pieces.size()]);
    }

    private static int letter(char c) {
        return 259 + (c - 'a');
    }

    @Test
    void textBeforeAStopStringIsHandedOutAndThePossibleStartOfOneIsHeldBack() {
        CompletionText t = new CompletionText(tokenizer(), Tokenizer.BOS, List.of("xyz"));
        assertFalse(t.add(letter('a')));
        assertEquals("a", t.takeDelta());
        assertFalse(t.add(letter('x')));
        assertEquals("", t.takeDelta(), "x may begin the stop string");
        assertFalse(t.add(letter('y')));
        assertEquals("", t.takeDelta());
        assertFalse(t.add(letter('b')));
        assertEquals("xyb", t.takeDelta(), "xyb is not xyz: released");
        assertFalse(t.add(letter('x')));
        assertFalse(t.add(letter('y')));
        assertTrue(t.add(letter('z')));
        assertEquals("", t.takeDelta());
        assertEquals("axyb", t.text(), "cut before the stop string");
        assertEquals("", t.takeRest());
    }

    @Test
    void theEarliestOfSeveralStopStringsEndsTheText() {
        CompletionText t = new CompletionText(tokenizer(), Tokenizer.BOS, List.of("cd", "bcde"));
        t.add(letter('a'));
        t.add(letter('b'));
        t.add(letter('c'));
        assertTrue(t.add(letter('d')));
        assertEquals("ab", t.text());
    }

    @Test
    void aCharacterSplitAcrossByteTokensIsHandedOutOnlyWhenWhole() {
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8); // 3 bytes
        CompletionText t = new CompletionText(tokenizer(), letter('a'), List.of());
        t.add(Tokenizer.FIRST_BYTE_TOKEN + (euro[0] & 0xFF));
        assertEquals("", t.takeDelta());
        t.add(Tokenizer.FIRST_BYTE_TOKEN + (euro[1] & 0xFF));
        assertEquals("", t.takeDelta());
        t.add(Tokenizer.FIRST_BYTE_TOKEN + (euro[2] & 0xFF));
        assertEquals("\u20ac", t.takeDelta());
    }

    @Test
    void anIncompleteCharacterAtTheEndIsFlushedAsAReplacementWhenTheCompletionEnds() {
        CompletionText t = new CompletionText(tokenizer(), letter('a'), List.of());
        t.add(letter('b'));
        t.add(Tokenizer.FIRST_BYTE_TOKEN + 0xE2);
        assertEquals("b", t.takeDelta());
        t.finish();
        assertEquals("\ufffd", t.takeRest());
    }

    @Test
    void withoutATokenizerTokensAreTheirIdsSeparatedBySpaces() {
        CompletionText t = new CompletionText(null, 1, List.of("7 8"));
        t.add(5);
        t.add(7);
        assertEquals("5 ", t.takeDelta(), "'7' may begin the stop string '7 8'");
        assertTrue(t.add(8));
        assertEquals("5 ", t.text());
    }
}
