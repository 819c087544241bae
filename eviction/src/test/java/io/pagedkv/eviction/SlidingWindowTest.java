package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {

    @Test
    void slidingWindowHoldsExactlyTheLastBudgetTokensOnceEachTokenIsPlaced() {
        Property.forAll(Gens.ints(1, 20), Gens.ints(1, 100)).check((window, steps) -> {
            SlidingWindow w = new SlidingWindow(window);
            int[] posOfSlot = new int[steps + 1];
            int[] victims = new int[steps + 1];
            int top = 0;
            for (int pos = 0; pos < steps; pos++) {
                int n = w.evict(1, victims);
                assertTrue(n <= 1, "one in, at most one out");
                int slot;
                if (n == 1) {
                    assertEquals(pos - window, posOfSlot[victims[0]], "the victim is the token leaving the window");
                    slot = victims[0];
                } else {
                    slot = top++;
                }
                w.onAppend(slot, pos);
                posOfSlot[slot] = pos;
                assertEquals(Math.min(window, pos + 1), w.liveTokens(), "never more than the budget");
                for (int s = 0; s < top; s++) {
                    boolean inWindow = posOfSlot[s] > pos - window;
                    assertEquals(inWindow, w.isLive(s), "slot " + s + " position " + posOfSlot[s] + " at step " + pos);
                }
            }
        });
    }

    @Test
    void blockGranularWindowEvictsWholeQuantaAndNeverExceedsTheBudget() {
        SlidingWindow w = new SlidingWindow(Budget.tokens(8), 4);
        int[] victims = new int[16];
        for (int pos = 0; pos < 8; pos++) {
            assertEquals(0, w.evict(1, victims), "no eviction while the next token fits, at " + pos);
            w.onAppend(pos, pos);
        }
        assertEquals(4, w.evict(1, victims));
        assertEquals(0, victims[0]);
        assertEquals(3, victims[3]);
        assertEquals(4, w.liveTokens());
    }

    @Test
    void aRatioBudgetGrowsWithTheContext() {
        SlidingWindow w = new SlidingWindow(Budget.ratio(0.5, 2), 1);
        int[] victims = new int[4];
        for (int pos = 0; pos < 40; pos++) {
            w.evict(1, victims);
            w.onAppend(pos, pos);
            assertEquals(Math.max(Math.min(2, pos + 1), (pos + 1) / 2), w.liveTokens(), "after " + (pos + 1) + " tokens");
        }
    }

    @Test
    void badSizesAreRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindow(0));
        assertTrue(e.getMessage().contains("budget: 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindow(Budget.tokens(4), 0));
        assertTrue(e.getMessage().contains("quantum: 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindow(Budget.tokens(3), 4));
        assertTrue(e.getMessage().contains("budget: 3 tokens"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Budget.ratio(0, 4));
        assertThrows(IllegalArgumentException.class, () -> Budget.ratio(1.5, 4));
    }
}
