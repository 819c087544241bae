package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {

    @Test
    void slidingWindowKeepsExactlyTheLastWindowTokensAfterEveryStep() {
        Property.forAll(Gens.ints(1, 20), Gens.ints(1, 100)).check((window, steps) -> {
            SlidingWindow w = new SlidingWindow(window);
            int[] posOfSlot = new int[steps + 1];
            int[] victims = new int[steps + 1];
            int free = -1;
            int top = 0;
            for (int pos = 0; pos < steps; pos++) {
                int slot = free >= 0 ? free : top++;
                free = -1;
                w.onAppend(slot, pos);
                posOfSlot[slot] = pos;
                int n = w.evict(victims);
                assertTrue(n <= 1, "one in, at most one out");
                if (n == 1) {
                    assertEquals(pos - window, posOfSlot[victims[0]], "the victim is the token that left the window");
                    free = victims[0];
                }
                assertEquals(Math.min(window, pos + 1), w.liveTokens());
                for (int s = 0; s < top; s++) {
                    boolean inWindow = s != free && posOfSlot[s] > pos - window;
                    assertEquals(inWindow, w.isLive(s), "slot " + s + " position " + posOfSlot[s] + " at step " + pos);
                }
            }
        });
    }

    @Test
    void blockGranularWindowEvictsWholeQuantaAndStaysBelowWindowPlusQuantum() {
        SlidingWindow w = new SlidingWindow(8, 4);
        int[] victims = new int[16];
        for (int pos = 0; pos < 11; pos++) {
            w.onAppend(pos, pos);
            assertEquals(0, w.evict(victims), "no eviction below window + quantum at " + pos);
        }
        w.onAppend(11, 11);
        assertEquals(4, w.evict(victims));
        assertEquals(0, victims[0]);
        assertEquals(3, victims[3]);
        assertEquals(8, w.liveTokens());
    }

    @Test
    void badSizesAreRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindow(0));
        assertTrue(e.getMessage().contains("budget: 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindow(4, 0));
        assertTrue(e.getMessage().contains("quantum: 0"), e.getMessage());
    }
}
