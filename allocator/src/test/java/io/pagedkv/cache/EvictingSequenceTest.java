package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvictingSequenceTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 1, 1, 2), KvDType.F32, 4);

    /** Places {@code tokens} tokens with ids 100 + position and writes key (p, -p), value (10 p, 1). */
    static void fill(EvictingSequence s, int tokens) {
        for (int i = 0; i < tokens; i++) {
            int p = s.append(100 + s.nextPosition());
            s.write(0, p, new float[] {p, -p}, new float[] {10 * p, 1});
        }
    }

    static float keyOf(EvictingSequence s, int position) {
        float[] k = new float[2];
        s.readKey(0, 0, position, k, 0);
        return k[0];
    }

    static int[] positions(EvictingSequence s) {
        int[] p = new int[s.slots()];
        for (int i = 0; i < p.length; i++) {
            p[i] = s.positionOf(i);
        }
        return p;
    }

    @Test
    void aVictimsSlotIsReusedByTheNextAppendSoNoHoleIsLeft() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 6);
            s.evict(2);
            assertEquals(EvictingSequence.HOLE, s.slotOf(2), "position 2 is gone");
            assertEquals(6, s.append(7), "positions are numbered by the sequence");
            assertEquals(2, s.slotOf(6), "the new token takes the victim's slot");
            assertEquals(6, s.slots());
            assertEquals(0, s.holes());
            assertEquals(6, s.positionOf(2));
        }
    }

    @Test
    void writesGoByPositionAndAnEvictedPositionIsRefused() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 5);
            s.evict(1);
            int p = s.append(42);
            s.write(0, p, new float[] {77, 0}, new float[] {0, 0});
            assertEquals(77f, keyOf(s, p));
            assertEquals(1, s.slotOf(p));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.write(0, 1, new float[2], new float[2]));
            assertEquals("position: 1 (expected: a kept position; it was evicted)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> s.readKey(0, 0, 9, new float[2], 0));
            assertEquals("position: 9 (expected: a kept position; placed so far: 0 .. 5)", e.getMessage());
        }
    }

    @Test
    void packedBuffersAreWrittenFromTheirOffsetsAndARejectedValueChangesNothing() {
        CacheLayout q8 = new CacheLayout(ModelShape.of("q8", 1, 2, 2, 32), KvDType.Q8_0, 4);
        try (PagedKvCache cache = new PagedKvCache(q8, 4)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            int p = s.append(1);
            float[] packed = new float[10 + 64];
            for (int i = 0; i < 64; i++) {
                packed[10 + i] = i;
            }
            s.write(0, p, packed, 10, packed, 10);
            float[] k = new float[32];
            s.readKey(0, 1, p, k, 0);
            assertEquals(40f, k[8], 0.5f, "head 1 starts 32 floats after the offset");
            float[] other = new float[74];
            java.util.Arrays.fill(other, 100f);
            float[] bad = packed.clone();
            bad[10 + 40] = Float.NaN; // a value of head 1: q8_0 cannot store NaN
            assertThrows(IllegalArgumentException.class, () -> s.write(0, p, other, 10, bad, 10));
            s.readKey(0, 0, p, k, 0);
            assertEquals(8f, k[8], 0.5f, "no head was written: the key of head 0 is still the old one");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.write(0, p, packed, 11, packed, 0));
            assertTrue(e.getMessage().startsWith("keys range: off 11, 64 floats of length 74"), e.getMessage());
        }
    }

    @Test
    void aBlockOfHolesIsReleasedWithoutCopyingAndTheTableIsRelinked() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 12);
            int first = s.blockId(0);
            int third = s.blockId(2);
            for (int slot = 4; slot < 8; slot++) {
                s.evict(slot);
            }
            List<int[]> moves = new ArrayList<>();
            assertEquals(1, s.releaseEmptyBlocks((f, t) -> moves.add(new int[] {f, t})));
            assertEquals(2, s.blockCount());
            assertEquals(first, s.blockId(0));
            assertEquals(third, s.blockId(1), "the third block moved up the table, its bytes stayed put");
            assertEquals(6, cache.freeBlocks(), "one block went back: 8 - 2 in use");
            assertEquals(4, moves.size(), "slots 8..11 renumbered to 4..7");
            assertArrayEquals(new int[] {8, 4}, moves.get(0));
            assertEquals(8, s.positionOf(4));
            assertEquals(4, s.slotOf(8));
            assertEquals(8f, keyOf(s, 8));
            assertEquals(0, s.holes());
        }
    }

    @Test
    void tailFillMovesAtMostOneSlotPerHoleAndFreesTrailingBlocks() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 12);
            s.evict(1);
            s.evict(5);
            s.evict(10);
            s.evict(11);
            // live = 8: slots 8 and 9 (positions 8, 9) move into holes 1 and 5
            List<int[]> moves = new ArrayList<>();
            assertEquals(2, s.compact((f, t) -> moves.add(new int[] {f, t})));
            assertEquals(8, s.slots());
            assertEquals(2, s.blockCount());
            assertEquals(6, cache.freeBlocks());
            assertEquals(9, s.positionOf(1));
            assertEquals(9f, keyOf(s, 9));
            assertEquals(8, s.positionOf(5));
            assertEquals(8f, keyOf(s, 8));
        }
    }

    @Test
    void compactionCopiesASharedBlockBeforeMovingIntoItSoTheForkKeepsItsBytes() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 8);
            EvictingSequence child = s.fork();
            s.evict(0);
            s.compact((f, t) -> { });
            assertEquals(0, s.slotOf(7));
            assertEquals(7f, keyOf(s, 7));
            assertEquals(0f, keyOf(child, 0), "the fork still reads its own position 0");
            assertEquals(0, child.positionOf(0));
            child.close();
        }
    }

    /**
     * Issue 24 item 1, the reproduced scenario: 4-token blocks, a pool of 4, holes at slots 1, 5, 10,
     * 11, a fork, and one free block. The first move (9 -> 1) would copy block 0 onto the last free
     * block and the second (8 -> 5) would find the pool empty. On the old code compact threw after
     * the first move with holes[], the slot map and the live count disagreeing, and four later
     * appends overwrote position 9. Now it takes both copy-on-write blocks before moving anything.
     */
    @Test
    void compactThatCannotGetItsCopyOnWriteBlocksChangesNothingAndLaterAppendsLoseNoToken() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 12);
            EvictingSequence fork = s.fork();
            for (int slot : new int[] {1, 5, 10, 11}) {
                s.evict(slot);
            }
            int[] before = positions(s);
            assertEquals(1, cache.freeBlocks());
            PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> s.compact((f, t) -> { }));
            assertTrue(e.getMessage().contains("compact"), e.getMessage());
            assertArrayEquals(before, positions(s), "no slot moved");
            assertEquals(4, s.holes());
            assertEquals(8, s.liveTokens());
            assertEquals(12, s.slots());
            assertEquals(1, cache.freeBlocks(), "no block taken");
            for (int p : new int[] {0, 2, 3, 4, 6, 7, 8, 9}) {
                assertEquals(p, keyOf(s, p), 0f, "position " + p + " reads back its key");
            }
            // The old failure: four appends fill the holes and overwrite position 9. Here the holes of
            // block 2 take the first two (one copy-on-write, the last free block); the holes of the
            // shared blocks 0 and 1 need a block that does not exist, so those appends are refused
            // whole: nothing is placed and no position is used up.
            List<Integer> kept = new ArrayList<>(List.of(0, 2, 3, 4, 6, 7, 8, 9));
            for (int i = 0; i < 4; i++) {
                int p = s.tryAppend(200 + i);
                if (p != EvictingSequence.NO_POSITION) {
                    s.write(0, p, new float[] {p, 0}, new float[] {0, 0});
                    kept.add(p);
                }
            }
            assertEquals(List.of(0, 2, 3, 4, 6, 7, 8, 9, 12, 13), kept);
            assertEquals(9f, keyOf(s, 9), "position 9 survives");
            assertEquals(10, s.liveTokens());
            assertEquals(2, s.holes());
            fork.close();
            assertEquals(2, s.compact((f, t) -> { }), "with the fork gone nothing is shared: two moves");
            assertEquals(10, s.slots());
            for (int p : kept) {
                assertEquals(p, keyOf(s, p), 0f, "position " + p + " reads back its key after compaction");
            }
            s.close();
            assertEquals(4, cache.freeBlocks(), "conservation: every block back");
        }
    }

    /** Issue 24 item 1, second half: an append into a hole of a shared block must not count the token before its block is writable. */
    @Test
    void anAppendIntoAHoleOfASharedBlockWithAnEmptyPoolIsRefusedAndChangesNothing() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 2)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 8);
            EvictingSequence fork = s.fork();
            s.evict(2);
            assertEquals(0, cache.freeBlocks());
            assertThrows(PoolExhaustedException.class, () -> s.append(99));
            assertEquals(7, s.liveTokens(), "the token was not placed");
            assertEquals(1, s.holes());
            assertEquals(8, s.nextPosition(), "no position was used up");
            assertEquals(EvictingSequence.HOLE, s.positionOf(2));
            assertEquals(EvictingSequence.NO_POSITION, s.tryAppend(99));
            fork.close();
            int p = s.append(99);
            assertEquals(8, p);
            assertEquals(2, s.slotOf(8));
            s.close();
        }
    }

    @Test
    void evictingAHoleOrAnOutOfRangeSlotIsRefused() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 3);
            s.evict(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.evict(1));
            assertEquals("slot: 1 (expected: a live slot below 3)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.evict(3));
            assertEquals(2, s.liveTokens());
        }
    }

    @Test
    void onlyAnEmptySequenceOrAPrefixHitIsAccepted() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence used = cache.openSequence();
            used.append(3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EvictingSequence(used));
            assertEquals("seq: length 3, reused 0 (expected: an empty sequence or a prefix hit with nothing appended,"
                    + " so every token is placed here)", e.getMessage());
            used.close();
            assertThrows(IllegalArgumentException.class, () -> new EvictingSequence(used), "a closed sequence");
            assertThrows(IllegalArgumentException.class, () -> new EvictingSequence(null));
        }
    }

    @Test
    void aChangeMadeToTheWrappedSequenceDirectlyIsDetectedAndRefused() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence raw = cache.openSequence();
            EvictingSequence s = new EvictingSequence(raw);
            fill(s, 2);
            raw.append(1);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.append(5));
            assertTrue(e.getMessage().contains("length 3 (expected: 2; it was changed directly"), e.getMessage());
            raw.close();
        }
    }

    @Test
    void appendsRecordTokenIdsSoKeptFullBlocksCanBePrefixCachedUntilAnEviction() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 9); // ids 100 .. 108
            assertEquals(2, s.commitPrefix(), "two full blocks whose ids are known");
            s.close();
            int[] prompt = {100, 101, 102, 103, 104, 105, 106, 107, 108};
            try (EvictingSequence hit = new EvictingSequence(cache.openSequence(prompt))) {
                assertEquals(8, hit.reusedTokens());
                assertEquals(8, hit.nextPosition());
                assertEquals(5f, keyOf(hit, 5), "the hit reads the first request's K/V");
            }
        }
    }

    @Test
    void anEvictionStopsPrefixCommitsAtTheEvictedSlotSoNoBlockIsIndexedUnderStaleIds() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 12);
            s.evict(5);
            assertEquals(1, s.commitPrefix(), "only block 0 (slots 0..3) still matches its ids");
            s.close();
        }
    }
}
