package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StreamingPositionsTest {

    @Test
    void keptTokensTakeTheirPlaceInTheCacheInOriginalOrder() {
        AttentionSinks p = new AttentionSinks(4, 2);
        int[] victims = new int[4];
        for (int pos = 0; pos < 7; pos++) {
            int slot = p.evict(1, victims) == 1 ? victims[0] : pos;
            p.onAppend(slot, pos);
        }
        // Kept: sinks 0, 1 and the newest 5, 6. Position 4 took slot 2 (victim 2), 5 took slot 3
        // (victim 3), 6 took slot 2 again (victim 4).
        int[] slots = new int[4];
        int[] original = new int[4];
        int[] now = new int[4];
        int n = StreamingPositions.assign(p, new long[4], slots, original, now);
        assertEquals(4, n);
        assertArrayEquals(new int[] {0, 1, 5, 6}, original);
        assertArrayEquals(new int[] {0, 1, 2, 3}, now);
        assertArrayEquals(new int[] {0, 1, 3, 2}, slots, "memory order differs from position order after reuse");
        assertEquals(6, p.positionOf(2));
    }
}
