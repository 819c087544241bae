package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FirstFitArenaTest {

    @Test
    void takesTheLowestHoleThatFitsAndMergesNeighboursOnFree() {
        FirstFitArena a = new FirstFitArena(100);
        long x = a.allocate(30);
        long y = a.allocate(30);
        long z = a.allocate(30);
        assertEquals(0, x);
        assertEquals(30, y);
        assertEquals(60, z);
        a.free(x, 30);
        a.free(z, 30);
        assertEquals(2, a.holes()); // [0,30) and [60,100)
        assertEquals(70, a.freeBytes());
        assertEquals(40, a.largestHole());
        assertEquals(60, a.allocate(35)); // [0,30) is too small: first fit skips it
        a.free(60, 35);
        a.free(y, 30);
        assertEquals(1, a.holes());
        assertEquals(100, a.largestHole());
    }

    @Test
    void freeBytesCanExceedTheLargestHole() {
        FirstFitArena a = new FirstFitArena(90);
        long x = a.allocate(30);
        a.allocate(30);
        long z = a.allocate(30);
        a.free(x, 30);
        a.free(z, 30);
        assertEquals(60, a.freeBytes());
        assertEquals(FirstFitArena.NO_RANGE, a.allocate(45), "45 free bytes exist, but not in one piece");
    }

    @Test
    void doubleFreeAndOutOfRangeAreRejectedWithTheRange() {
        FirstFitArena a = new FirstFitArena(64);
        long x = a.allocate(16);
        a.free(x, 16);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.free(x, 16));
        assertTrue(e.getMessage().contains("[0, 16)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.free(60, 8));
        assertThrows(IllegalArgumentException.class, () -> a.allocate(0));
        assertEquals(64, a.freeBytes(), "failed calls change nothing");
    }
}
