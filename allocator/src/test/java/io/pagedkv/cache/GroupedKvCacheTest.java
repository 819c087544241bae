package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The grouped cache's contract, case by case (the stateful test covers random interleavings). */
class GroupedKvCacheTest {

    static final int BLOCK = 4;
    /** 4 layers: 0 and 2 slide over 6 tokens (group 0), 1 and 3 are global (group 1). */
    static final ModelShape SHAPE = new ModelShape("alt", 4, 2, 1, 8, 6, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    static final CacheLayout MODEL = new CacheLayout(SHAPE, KvDType.F32, BLOCK);
    static final LayerGroups GROUPS = LayerGroups.of(SHAPE);

    static float[] vec(int layer, int position) {
        float[] v = new float[8];
        Arrays.fill(v, layer * 1000 + position);
        return v;
    }

    static void writeAll(GroupedSequence s, int from, int to) {
        for (int p = from; p < to; p++) {
            for (int l = 0; l < 4; l++) {
                s.write(l, p, vec(l, p), vec(l, -p));
            }
        }
    }

    static String tables(GroupedSequence s) {
        StringBuilder b = new StringBuilder().append(s.length());
        for (int g = 0; g < 2; g++) {
            int[] t = new int[s.blockCount(g)];
            s.copyBlockTable(g, t);
            b.append(' ').append(s.firstPosition(g)).append(Arrays.toString(t));
        }
        return b.toString();
    }

    @Test
    void badArgumentsNameTheValueAndTheLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GroupedKvCache(new CacheLayout(ModelPresets.LLAMA_3_1_8B, KvDType.F16, 16), GROUPS, 8));
        assertTrue(e.getMessage().contains("32 layers") && e.getMessage().contains("expected: 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GroupedKvCache(null, GROUPS, 8));
        assertThrows(IllegalArgumentException.class, () -> new GroupedKvCache(MODEL, null, 8));
        assertThrows(IllegalArgumentException.class, () -> new GroupedKvCache(MODEL, GROUPS, 0));
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 8)) {
            GroupedSequence s = c.openSequence();
            assertThrows(IllegalArgumentException.class, () -> s.tryAppend(0));
            assertThrows(IllegalArgumentException.class, () -> s.tryAppendTokens(new int[2], 1, 2));
            assertTrue(s.tryAppend(2));
            assertThrows(IndexOutOfBoundsException.class, () -> s.write(4, 0, vec(0, 0), vec(0, 0)));
            assertThrows(IndexOutOfBoundsException.class, () -> s.write(0, 2, vec(0, 0), vec(0, 0)));
            assertThrows(IllegalArgumentException.class, () -> s.write(0, 0, new float[3], vec(0, 0)));
            assertEquals(2, s.length());
            assertEquals(6, c.freeBlocks(), "one block per group");
        }
    }

    @Test
    void aRefusedAppendChangesNothingInAnyGroup() {
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 3)) {
            GroupedSequence s = c.openSequence();
            assertTrue(s.tryAppend(4)); // one full block per group
            writeAll(s, 0, 4);
            String before = tables(s);
            assertEquals(2, s.blocksToAppend(4), "4 more tokens: one block per group");
            assertEquals(4, s.blocksToAppend(8), "8 more tokens: two blocks per group");
            assertFalse(s.tryAppend(8), "needs 4 blocks, 1 free, none to release");
            assertEquals(before, tables(s));
            assertEquals(1, c.freeBlocks());
            assertThrows(PoolExhaustedException.class, () -> s.append(8));
            assertEquals(before, tables(s));
        }
    }

    @Test
    void aDeadBlockThatThePrefixCacheAlsoHoldsCountsAsRoomForTheDecodeStep() {
        // window 1: the 5th token's window starts at position 4, so the sliding group's first block is dead
        ModelShape w1 = new ModelShape("w1", 2, 1, 1, 8, 1, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        try (GroupedKvCache c = new GroupedKvCache(new CacheLayout(w1, KvDType.F32, BLOCK), LayerGroups.of(w1), 3)) {
            int[] prompt = {1, 2, 3, 4, 5};
            GroupedSequence s = c.openSequence(prompt);
            assertTrue(s.tryAppendTokens(prompt, 0, 4));
            for (int p = 0; p < 4; p++) {
                s.write(0, p, vec(0, p), vec(0, p));
                s.write(1, p, vec(1, p), vec(1, p));
            }
            assertEquals(1, s.commitPrefix(), "both groups index their full block");
            assertEquals(1, c.freeBlocks());
            assertTrue(s.tryAppendTokens(prompt, 4, 1),
                    "2 blocks needed, 1 free + the dead sliding block that its release hands to the LRU");
            assertEquals(4, s.firstPosition(0));
            assertEquals(0, c.freeBlocks());
            assertEquals(3, c.usedBlocks(0) + c.usedBlocks(1) + c.cachedBlocks());
        }
    }

    @Test
    void aGroupThatFailsAfterAnotherSucceededLeavesNoGroupAppended() {
        NthCallFaults faults = new NthCallFaults();
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 16, faults)) {
            GroupedSequence s = c.openSequence();
            assertTrue(s.tryAppend(4));
            writeAll(s, 0, 4);
            String before = tables(s);
            int free = c.freeBlocks();
            faults.failNthAllocation(2); // group 0 gets its block, group 1's allocation fails
            assertFalse(s.tryAppend(1));
            assertEquals(before, tables(s), "group 0 was cut back");
            assertEquals(free, c.freeBlocks(), "group 0's block went back");
            assertEquals(1, c.usedBlocks(0));
            assertEquals(1, c.usedBlocks(1));
            assertTrue(s.tryAppend(1), "the fault fired once");
            assertEquals(5, s.length());
        }
    }

    @Test
    void theSlidingGroupReleasesBlocksOutsideTheWindowAndReadsOfThemThrow() {
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 32)) {
            GroupedSequence s = c.openSequence();
            for (int p = 0; p < 20; p++) {
                assertTrue(s.tryAppend(1));
                writeAll(s, p, p + 1);
                s.releaseOutsideWindow();
                assertTrue(s.blockCount(0) <= GROUPS.maxWindowBlocks(0, BLOCK), s.toString());
            }
            // next query at 20 sees 15..20: blocks [12, 16) and [16, 20) stay, [0, 12) went
            assertEquals(12, s.firstPosition(0));
            assertEquals(2, s.blockCount(0));
            assertEquals(5, s.blockCount(1));
            assertEquals(2, c.usedBlocks(0));
            assertEquals(5, c.usedBlocks(1));
            assertEquals(25, c.freeBlocks());
            float[] got = new float[8];
            s.readKey(0, 0, 12, got, 0);
            assertArrayEquals(vec(0, 12), got);
            s.readKey(1, 0, 0, got, 0);
            assertArrayEquals(vec(1, 0), got, "the global group keeps position 0");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.readKey(2, 0, 11, got, 0));
            assertTrue(e.getMessage().contains("6-token window") && e.getMessage().contains(">= 12"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> s.write(0, 3, vec(0, 3), vec(0, 3)));
            s.close();
            assertEquals(32, c.freeBlocks());
        }
    }

    @Test
    void aForkSharesEveryGroupsBlocksAndWritesApartAfterwards() {
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 32)) {
            GroupedSequence s = c.openSequence();
            assertTrue(s.tryAppend(10));
            writeAll(s, 0, 10);
            s.releaseOutsideWindow(); // next query at 10 sees 5..10: sliding keeps [4, 12)
            GroupedSequence child = s.fork();
            assertEquals(s.firstPosition(0), child.firstPosition(0));
            assertEquals(tables(s), tables(child));
            assertEquals(2 + 3, c.usedBlocks(0) + c.usedBlocks(1), "shared, counted once");
            assertTrue(child.tryAppend(1)); // the shared partial last blocks are copied
            child.write(0, 10, vec(9, 9), vec(9, 9));
            float[] got = new float[8];
            child.readKey(0, 0, 9, got, 0);
            assertArrayEquals(vec(0, 9), got);
            assertThrows(IndexOutOfBoundsException.class, () -> s.readKey(0, 0, 10, got, 0), "the parent has 10 tokens");
            child.close();
            s.close();
            assertEquals(32, c.freeBlocks());
        }
    }

    @Test
    void aPrefixHitNeedsTheGlobalChainButOnlyTheWindowsBlocksOfTheSlidingGroupAndNeverCrossesGroups() {
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 32)) {
            int[] tokens = new int[24];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = 100 + i;
            }
            GroupedSequence first = c.openSequence(Arrays.copyOf(tokens, 9));
            assertEquals(0, first.reusedTokens());
            assertTrue(first.tryAppendTokens(tokens, 0, 9));
            writeAll(first, 0, 9);
            assertEquals(2, first.commitPrefix(), "two full blocks in both groups");
            first.releaseOutsideWindow();
            for (int p = 9; p < 20; p++) { // decode: block 2 of the sliding group is released before any commit
                assertTrue(first.tryAppendTokens(tokens, p, 1));
                writeAll(first, p, p + 1);
                first.releaseOutsideWindow();
            }
            first.commitPrefix();
            first.close();
            assertEquals(c.cachedBlocks(), c.cachedBlocks(0) + c.cachedBlocks(1));
            assertEquals(5, c.cachedBlocks(1), "the global group's five full blocks");
            assertEquals(4, c.cachedBlocks(0), "the sliding group's blocks 0, 1 and, committed after its release, 3, 4");
            GroupedSequence second = c.openSequence(Arrays.copyOf(tokens, 21));
            assertEquals(20, second.reusedTokens(), "the global chain; the sliding group has the window's blocks 3, 4");
            assertEquals(20, second.length());
            assertEquals(5, second.blockCount(1), "the global group holds every block of the hit");
            assertEquals(12, second.firstPosition(0), "the query at 20 attends to 15 .. 20: from block 3 on");
            assertEquals(2, second.blockCount(0));
            GroupedSequence third = c.openSequence(Arrays.copyOf(tokens, 13));
            assertEquals(8, third.reusedTokens(), "a hit at 12 needs sliding blocks 1, 2 (positions 7 .. 11) and 2 is"
                    + " missing; at 8 the window (3 .. 8) needs blocks 0, 1");
            assertEquals(0, third.firstPosition(0));
            assertEquals(2, third.blockCount(0));
            third.close();
            float[] got = new float[8];
            for (int p = 0; p < 20; p++) {
                for (int l = 0; l < 4; l++) {
                    if (p >= second.firstPosition(GROUPS.groupOf(l))) {
                        second.readKey(l, 0, p, got, 0);
                        assertArrayEquals(vec(l, p), got, "layer " + l + " position " + p + ": its own group's block");
                    }
                }
            }
            assertEquals(32, c.freeBlocks() + c.cachedBlocks() + c.usedBlocks(0) + c.usedBlocks(1));
            second.close();
        }
    }

    @Test
    void aGemma2StyleModelDecodesThroughTwoGroupsAndItsSlidingGroupStopsGrowing() {
        float[] k = new float[2 * 32];
        float[] v = new float[2 * 32];
        int steps = 1000;
        // snippet:layer-groups-decode
        // Gemma-2 style: 8 layers, even ones slide over 256 tokens, odd ones are global
        ModelShape shape = new ModelShape("gemma-2-mini", 8, 4, 2, 32, 256,
                AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        CacheLayout model = new CacheLayout(shape, KvDType.F16, 16);
        LayerGroups groups = LayerGroups.of(shape);   // sliding(256) x4 + global x4
        try (GroupedKvCache cache = new GroupedKvCache(model, groups, 256)) {
            GroupedSequence seq = cache.openSequence();
            for (int step = 0; step < steps; step++) {
                if (!seq.tryAppend(1)) {              // every group or none; false = the pool is short
                    break;
                }
                int pos = seq.length() - 1;
                for (int layer = 0; layer < groups.modelLayers(); layer++) {
                    seq.write(layer, pos, k, v);      // by model layer: its group, its layer in the group
                }
                // attention walks each group's block table, from seq.firstPosition(g) on
                seq.releaseOutsideWindow();           // blocks no later window sees go back to the pool
            }
            assertEquals(groups.maxWindowBlocks(0, 16), seq.blockCount(0)); // ceil(256 / 16) + 1 = 17
            assertEquals(Math.ceilDiv(steps, 16), seq.blockCount(1));      // the global group keeps all
        }
        // end-snippet
    }

    @Test
    void closingTheCacheOrAnyGroupCacheClosesEverything() {
        GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 8);
        GroupedSequence s = c.openSequence();
        assertTrue(s.tryAppend(1));
        c.group(1).close();
        assertTrue(c.isClosed());
        assertTrue(c.group(0).isClosed());
        assertThrows(IllegalStateException.class, () -> s.tryAppend(1));
        assertThrows(IllegalStateException.class, c::openSequence);
        c.close(); // idempotent
    }

    @Test
    void decodeStepsAllocateLessThanOneBytePerToken() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        ModelShape shape = new ModelShape("alt-256", 4, 8, 2, 64, 256, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        CacheLayout layout = new CacheLayout(shape, KvDType.F32, 16);
        try (GroupedKvCache cache = new GroupedKvCache(layout, LayerGroups.of(shape), 4096)) {
            float[] k = new float[2 * 64];
            float[] v = new float[k.length];
            float[] out = new float[64];
            decode(cache, 8_000, k, v, out); // warm up
            long tokens = 16_000;
            long before = threads.getCurrentThreadAllocatedBytes();
            double sink = decode(cache, (int) tokens, k, v, out);
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(bytes < tokens, bytes + " bytes for " + tokens + " tokens (" + (double) bytes / tokens
                    + " per token; expected: < 1)" + sink);
        }
    }

    private static double decode(GroupedKvCache cache, int tokens, float[] k, float[] v, float[] out) {
        GroupedSequence s = cache.openSequence();
        double sum = 0;
        for (int t = 0; t < tokens; t++) {
            if (!s.tryAppend(1)) {
                throw new AssertionError("pool full at " + t);
            }
            int pos = s.length() - 1;
            k[0] = t;
            for (int l = 0; l < 4; l++) {
                s.write(l, pos, k, v);
            }
            s.releaseOutsideWindow();
            s.readKey(2, 1, pos, out, 0);
            sum += out[0] + s.blockId(0, 0);
        }
        s.close();
        return sum;
    }
}
