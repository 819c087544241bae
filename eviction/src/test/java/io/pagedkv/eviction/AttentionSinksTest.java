package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class AttentionSinksTest {

    @Test
    void sinksStayAndTheOldestTokenBetweenSinksAndRecentGoes() {
        AttentionSinks p = new AttentionSinks(2, 3, 1);
        int[] victims = new int[8];
        for (int pos = 0; pos < 5; pos++) {
            p.onAppend(pos, pos);
            assertEquals(0, p.evict(victims));
        }
        p.onAppend(5, 5);
        assertEquals(1, p.evict(victims));
        assertEquals(2, victims[0], "position 2 is the oldest non-sink");
        p.onAppend(2, 6);
        assertEquals(1, p.evict(victims));
        assertEquals(3, victims[0]);
        int[] live = new int[8];
        int n = p.liveSlots(live);
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = p.positionOf(live[i]);
        }
        Arrays.sort(positions);
        assertArrayEquals(new int[] {0, 1, 4, 5, 6}, positions);
    }

    @Test
    void blockGranularSinksReleaseTheMiddleRunAQuantumAtATime() {
        AttentionSinks p = new AttentionSinks(4, 8, 4);
        int[] victims = new int[8];
        for (int pos = 0; pos < 15; pos++) {
            p.onAppend(pos, pos);
            assertEquals(0, p.evict(victims));
        }
        p.onAppend(15, 15);
        assertEquals(4, p.evict(victims));
        assertArrayEquals(new int[] {4, 5, 6, 7}, Arrays.copyOf(victims, 4), "one whole block 4..7 released");
    }

    @Test
    void noSinksAndNoRecentIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new AttentionSinks(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new AttentionSinks(-1, 4, 1));
    }
}
