package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Failure reports show values by content, including arrays nested in lists and maps. */
class ShowTest {
    @Test
    void arraysListsMapsStringsAndFloatsShowByContent() {
        assertEquals("[[1.0, -0.0], [NaN]]", Show.value(List.of(new float[] {1f, -0f}, new float[] {Float.NaN})));
        assertEquals("NaN(0x7fc00000)", Show.value(Float.NaN));
        assertEquals("-0.0f", Show.value(-0f));
        assertEquals("[\"a\", null]", Show.value(Arrays.asList("a", null)));
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("k", new int[] {1, 2});
        assertEquals("{\"k\"=[1, 2]}", Show.value(m));
    }
}
