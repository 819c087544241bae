package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class AttentionSinksTest {

    @Test
    void theBudgetCountsTheSinksAndTheOldestTokenBetweenSinksAndNewestGoes() {
        AttentionSinks p = new AttentionSinks(5, 2);
        assertEquals(5, p.budget().minTokens());
        assertEquals(2, p.sinks());
        int[] victims = new int[8];
        for (int pos = 0; pos < 5; pos++) {
            assertEquals(0, p.evict(1, victims));
            p.onAppend(pos, pos);
        }
        assertEquals(1, p.evict(1, victims), "room for the sixth token");
        assertEquals(2, victims[0], "position 2 is the oldest non-sink");
        p.onAppend(2, 5);
        assertEquals(1, p.evict(1, victims));
        assertEquals(3, victims[0]);
        p.onAppend(3, 6);
        int[] live = new int[8];
        int n = p.liveSlots(live);
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = p.positionOf(live[i]);
        }
        Arrays.sort(positions);
        assertArrayEquals(new int[] {0, 1, 4, 5, 6}, positions, "the cache holds exactly the budget");
    }

    @Test
    void theOneArgumentConstructorKeepsFourSinksWithinTheBudget() {
        AttentionSinks p = new AttentionSinks(32);
        assertEquals(32, p.budget().minTokens());
        assertEquals(AttentionSinks.DEFAULT_SINKS, p.sinks());
        assertEquals("sinks(32,first=4)", p.name());
    }

    @Test
    void blockGranularSinksKeepTheSinkBlockWholeAndEvictWholeBlocks() {
        AttentionSinks p = new AttentionSinks(Budget.tokens(16), 2, 4);
        assertEquals(4, p.sinks(), "2 sinks rounded up to the quantum: the sinks' block is kept whole");
        int[] victims = new int[8];
        for (int pos = 0; pos < 16; pos++) {
            assertEquals(0, p.evict(1, victims));
            p.onAppend(pos, pos);
        }
        assertEquals(4, p.evict(1, victims));
        assertArrayEquals(new int[] {4, 5, 6, 7}, Arrays.copyOf(victims, 4), "one whole block 4..7");
    }

    @Test
    void budgetsThatCannotHoldTheSinksAndAQuantumAreRefusedWithTheValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AttentionSinks(4, 4));
        assertTrue(e.getMessage().contains("budget: 4 tokens (expected: >= sinks 4 + recent 0 + quantum 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AttentionSinks(8, -1));
        assertThrows(IllegalArgumentException.class, () -> new AttentionSinks(Budget.tokens(31), 4, 16),
                "4 sinks round to 16, plus a quantum of 16 is 32");
    }
}
