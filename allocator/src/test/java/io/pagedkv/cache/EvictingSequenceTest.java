package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvictingSequenceTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 1, 1, 2), KvDType.F32, 4);

    static void fill(EvictingSequence s, int tokens) {
        for (int p = 0; p < tokens; p++) {
            int slot = s.append(p);
            s.sequence().write(0, slot, new float[] {p, -p}, new float[] {10 * p, 1});
        }
    }

    static float keyOf(EvictingSequence s, int slot) {
        float[] k = new float[2];
        s.sequence().readKey(0, 0, slot, k, 0);
        return k[0];
    }

    @Test
    void aVictimsSlotIsReusedByTheNextAppendSoNoHoleIsLeft() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 6);
            s.evict(2);
            assertEquals(2, s.append(6), "the new token takes the victim's slot");
            assertEquals(6, s.slots());
            assertEquals(0, s.holes());
            assertEquals(6, s.positionOf(2));
        }
    }

    @Test
    void aBlockOfHolesIsReleasedWithoutCopyingAndTheTableIsRelinked() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            EvictingSequence s = new EvictingSequence(cache.openSequence());
            fill(s, 12);
            int first = s.sequence().blockId(0);
            int third = s.sequence().blockId(2);
            for (int slot = 4; slot < 8; slot++) {
                s.evict(slot);
            }
            List<int[]> moves = new ArrayList<>();
            assertEquals(1, s.releaseEmptyBlocks((f, t) -> moves.add(new int[] {f, t})));
            assertEquals(2, s.sequence().blockCount());
            assertEquals(first, s.sequence().blockId(0));
            assertEquals(third, s.sequence().blockId(1), "the third block moved up the table, its bytes stayed put");
            assertEquals(6, cache.pool().freeBlocks(), "one block went back: 8 - 2 in use");
            assertEquals(4, moves.size(), "slots 8..11 renumbered to 4..7");
            assertArrayEquals(new int[] {8, 4}, moves.get(0));
            assertEquals(8, s.positionOf(4));
            assertEquals(8f, keyOf(s, 4));
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
            assertEquals(2, s.sequence().blockCount());
            assertEquals(6, cache.pool().freeBlocks());
            assertEquals(9, s.positionOf(1));
            assertEquals(9f, keyOf(s, 1));
            assertEquals(8, s.positionOf(5));
            assertEquals(8f, keyOf(s, 5));
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
            assertEquals(7f, keyOf(s, 0));
            assertEquals(0f, keyOf(child, 0), "the fork still reads its own position 0");
            assertEquals(0, child.positionOf(0));
            child.close();
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
    void anEvictionStopsPrefixCommitsAtTheEvictedSlotSoNoBlockIsIndexedUnderStaleIds() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            Sequence seq = cache.openSequence(prompt);
            seq.appendTokens(prompt, 0, prompt.length);
            seq.markWritten(prompt.length); // as if prefilled: only written blocks are ever indexed
            EvictingSequence s = new EvictingSequence(seq);
            assertEquals(12, s.liveTokens());
            assertEquals(7, s.positionOf(7), "adopted tokens keep their slots as positions");
            s.evict(5);
            assertEquals(1, seq.commitPrefix(), "only block 0 (slots 0..3) still matches its ids");
            s.close();
        }
    }
}
