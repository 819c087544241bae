package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StreamingPositionsTest {

    @Test
    void keptTokensTakeTheirPlaceInTheCacheInOriginalOrder() {
        AttentionSinks p = new AttentionSinks(2, 2, 1);
        int[] victims = new int[4];
        int free = -1;
        for (int pos = 0; pos < 7; pos++) {
            int slot = free >= 0 ? free : pos;
            p.onAppend(slot, pos);
            free = p.evict(victims) == 1 ? victims[0] : -1;
        }
        // Kept: sinks 0, 1 and recent 5, 6; position 5 went into the slot of 2, 6 into that of 3.
        int[] slots = new int[4];
        int[] original = new int[4];
        int[] now = new int[4];
        int n = StreamingPositions.assign(p, new long[4], slots, original, now);
        assertEquals(4, n);
        assertArrayEquals(new int[] {0, 1, 5, 6}, original);
        assertArrayEquals(new int[] {0, 1, 2, 3}, now);
        assertArrayEquals(new int[] {0, 1, 2, 3}, slots, "memory order happens to match here after reuse");
        assertEquals(5, p.positionOf(2));
        assertEquals(Arrays.toString(new int[] {0, 1, 2, 3}), Arrays.toString(now));
    }
}
