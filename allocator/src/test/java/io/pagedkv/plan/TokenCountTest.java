package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenCountTest {

    @Test
    void kIs1024TokensAsContextLengthsAreNamed() {
        assertEquals(131_072, TokenCount.parse("128k"));
        assertEquals(131_072, TokenCount.parse("128K"));
        assertEquals(1_048_576, TokenCount.parse("1M"));
        assertEquals(1536, TokenCount.parse("1.5k"));
        assertEquals(128_000, TokenCount.parse("128000"));
        assertEquals(0, TokenCount.parse("0"));
    }

    @Test
    void rejectsUnknownSuffixesFractionsAndHugeCounts() {
        String m = assertThrows(IllegalArgumentException.class, () -> TokenCount.parse("128kb")).getMessage();
        assertTrue(m.contains("unknown suffix 'kb'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> TokenCount.parse("1.0001k")).getMessage();
        assertTrue(m.contains("whole number"), m);
        m = assertThrows(IllegalArgumentException.class, () -> TokenCount.parse("2000000M")).getMessage();
        assertTrue(m.contains(String.valueOf(TokenCount.MAX)), m);
        assertThrows(IllegalArgumentException.class, () -> TokenCount.parse("-5"));
        assertThrows(IllegalArgumentException.class, () -> TokenCount.parse("lots"));
    }
}
