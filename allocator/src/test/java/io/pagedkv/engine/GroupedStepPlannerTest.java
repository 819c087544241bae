package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedKvCache;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link GroupedStepPlanner} case by case: tables and slots per group, window release, all or nothing, bad input. */
class GroupedStepPlannerTest {

    /** Gemma-2 style: 4 layers, even ones slide over 8 tokens, odd ones are global; blocks of 4 tokens. */
    static final ModelShape SHAPE = new ModelShape("hybrid", 4, 2, 1, 4, 8, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    static final CacheLayout MODEL = new CacheLayout(SHAPE, KvDType.F32, 4);
    static final LayerGroups GROUPS = LayerGroups.of(SHAPE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static int[] ids(int n, int salt) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + (i * 7 + salt * 13) % 97;
        }
        return t;
    }

    /**
     * A fake kernel over a {@link GroupedStepPlan}: writes each new token's K/V (a function of token
     * id, position and layer) through the layer's group's slot mapping, and "attends" by reading every
     * readable position through the group's padded block table.
     */
    static final class SlotKernel {
        final CacheLayout group;
        final GroupedKvCache cache;
        long reads;

        SlotKernel(GroupedKvCache cache) {
            this.cache = cache;
            this.group = cache.groupLayout();
        }

        static float value(int token, int position, int layer, int kv, int j) {
            return token * 4 + position * 2 + layer + kv * 0.5f + j * 0.125f;
        }

        void writeKv(GroupedStepPlan plan, int row, int layer, int[] tokens) {
            int g = plan.groups().groupOf(layer);
            int lg = plan.groups().layerInGroup(layer);
            int bs = group.blockSize();
            int[] slots = plan.slotMapping(g);
            int q = plan.queryStart(row);
            for (int i = 0; i < plan.queryLength(row); i++) {
                int pos = plan.contextLength(row) + i;
                MemorySegment block = plan.writableBlock(row, g, pos / bs);
                for (int kv = 0; kv < 2; kv++) {
                    for (int j = 0; j < group.shape().headDim(); j++) {
                        block.set(F32, group.offset(lg, kv, 0, slots[q + i] % bs) + 4L * j, value(tokens[pos], pos, layer, kv, j));
                    }
                }
            }
        }

        void attend(GroupedStepPlan plan, int row, int layer, int[] tokens) {
            int g = plan.groups().groupOf(layer);
            int lg = plan.groups().layerInGroup(layer);
            int bs = group.blockSize();
            int[] table = plan.blockTables(g);
            int base = row * plan.blockTableWidth();
            int window = plan.groups().window(g);
            int readable = plan.readableTokens(row, layer);
            int from = window == 0 ? 0 : Math.max(0, readable - window);
            assertTrue(from >= plan.firstPosition(row, g), "the window never needs a released block");
            for (int pos = from; pos < readable; pos++) {
                int id = table[base + pos / bs];
                assertTrue(id != StepPlan.PAD, "position " + pos + " of group " + g + " is in the table");
                MemorySegment block = cache.pool().block(id);
                float k = block.get(F32, group.offset(lg, 0, 0, pos % bs));
                assertEquals(value(tokens[pos], pos, layer, 0, 0), k, "K of layer " + layer + " at " + pos);
                reads++;
            }
        }
    }

    private static int next(int[] tokens, int length) {
        return 2 + (tokens[length - 1] * 31 + length) % 50;
    }

    @Test
    void theDocsDecodeLoopKeepsTheSlidingGroupWithinItsWindowAndTheGlobalGroupWhole() {
        int[] prompt = ids(10, 1);
        int maxTokens = 30;
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 64)) {
            SlotKernel kernel = new SlotKernel(cache);
            // snippet:grouped-engine-generate
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 4);
            LayerGroups groups = cache.groups();                        // sliding(8) x2, global x2
            GroupedStepSequence seq = planner.admit(prompt, prompt.length, PrefixKeys.NONE); // null: not now
            int[] tokens = Arrays.copyOf(prompt, prompt.length + maxTokens);
            int length = prompt.length;
            while (length < tokens.length) {
                int start = seq.length();
                if (!planner.schedule(seq, tokens, start, length - start)) { // every group or none
                    break;                                              // pool short: preempt and retry
                }
                GroupedStepPlan plan = planner.plan();                  // per group: slots, padded tables
                int row = seq.row();
                for (int layer = 0; layer < groups.modelLayers(); layer++) {
                    kernel.writeKv(plan, row, layer, tokens);           // through slotMapping(groupOf(layer))
                    plan.markWritten(row, layer, plan.queryLength(row));
                    kernel.attend(plan, row, layer, tokens);            // blockTables(g): PAD below the window
                }
                planner.complete(plan);                                 // commit; release outside the window
                tokens[length] = next(tokens, length);
                length++;
            }
            planner.release(seq);
            // end-snippet
            assertEquals(prompt.length + maxTokens, length);
            assertEquals(maxTokens, planner.steps(), "the prompt in the first step, then one token a step");
            assertTrue(kernel.reads > 0);
            assertEquals(0, cache.usedBlocks(0) + cache.usedBlocks(1));
        }
    }

    @Test
    void theSlidingTableIsPaddedBelowTheWindowAndBoundedWhileTheGlobalTableGrows() {
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 64)) {
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            SlotKernel kernel = new SlotKernel(cache);
            int[] tokens = ids(60, 2);
            GroupedStepSequence s = planner.admit(tokens, 1, PrefixKeys.NONE);
            int bound = GROUPS.maxWindowBlocks(0, 4); // ceil(8 / 4) + 1 = 3
            int most = 0;
            for (int len = 0; len < 60; len++) {
                assertTrue(planner.schedule(s, tokens, len, 1));
                GroupedStepPlan plan = planner.plan();
                for (int l = 0; l < 4; l++) {
                    kernel.writeKv(plan, 0, l, tokens);
                    plan.markWritten(0, l, 1);
                    kernel.attend(plan, 0, l, tokens);
                }
                int w = plan.blockTableWidth();
                assertEquals(len / 4 + 1, w, "one column per model block");
                int padded = 0;
                for (int i = 0; i < w; i++) {
                    padded += plan.blockTables(0)[i] == StepPlan.PAD ? 1 : 0;
                    assertTrue(plan.blockTables(1)[i] != StepPlan.PAD, "the global group keeps every block");
                }
                assertEquals(plan.firstPosition(0, 0) / 4, padded, "PAD exactly below the sliding group's first block");
                planner.complete(plan);
                assertTrue(s.blockCount(0) <= bound, s.blockCount(0) + " > " + bound);
                most = Math.max(most, s.blockCount(0));
            }
            assertEquals(bound, most, "the bound is reached");
            assertEquals(15, s.blockCount(1));
            assertEquals(52, s.firstPosition(0), "position 60's window starts at 53, in block 13");
        }
    }

    @Test
    void aStepIsAllOrNothingAcrossGroupsAndAWindowReleaseCountsAsRoom() {
        ModelShape w1 = new ModelShape("w1", 2, 1, 1, 4, 1, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
        CacheLayout model = new CacheLayout(w1, KvDType.F32, 4);
        try (GroupedKvCache cache = new GroupedKvCache(model, LayerGroups.of(w1), 3)) {
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            int[] t = ids(12, 3);
            GroupedStepSequence s = planner.admit(t, 1, PrefixKeys.NONE);
            assertNotNull(s);
            assertTrue(planner.schedule(s, t, 0, 4));
            GroupedStepPlan plan = planner.plan();
            plan.markWritten(0, 4);
            planner.complete(plan);
            assertEquals(1, cache.freeBlocks());
            // the 5th token needs a block in each group: one free + the sliding group's dead block (window 1)
            assertTrue(planner.schedule(s, t, 4, 1), "the sliding group's release pays for the new block");
            plan = planner.plan();
            assertEquals(StepPlan.PAD, plan.blockTables(0)[0]);
            plan.markWritten(0, 1);
            planner.complete(plan);
            assertEquals(0, cache.freeBlocks());
            String before = s.blockId(0, 0) + "/" + s.blockId(1, 0) + "/" + s.blockId(1, 1) + "/" + s.length();
            assertFalse(planner.schedule(s, t, 5, 4), "the global group needs a block no release frees");
            assertEquals(before, s.blockId(0, 0) + "/" + s.blockId(1, 0) + "/" + s.blockId(1, 1) + "/" + s.length(),
                    "no group appended anything");
            assertEquals(1, s.blockCount(0));
            assertEquals(-1, s.row());
        }
    }

    @Test
    void aForksCopyOnWriteIsReportedPerGroup() {
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 64)) {
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            int[] t = ids(8, 4);
            GroupedStepSequence a = planner.admit(t, 6, PrefixKeys.NONE);
            assertTrue(planner.schedule(a, t, 0, 6));
            GroupedStepPlan plan = planner.plan();
            plan.markWritten(0, 6);
            planner.complete(plan);
            GroupedStepSequence b = planner.fork(a);
            assertEquals(a.blockId(1, 1), b.blockId(1, 1), "the fork shares the partly filled block");
            int shared0 = a.blockId(0, 1);
            int shared1 = a.blockId(1, 1);
            assertTrue(planner.schedule(a, t, 6, 1));
            assertTrue(planner.schedule(b, ids(8, 5), 6, 1));
            plan = planner.plan();
            assertEquals(1, plan.copies(0));
            assertEquals(1, plan.copies(1));
            assertEquals(shared0, plan.copyPairs(0)[0]);
            assertEquals(shared1, plan.copyPairs(1)[0]);
            assertEquals(plan.copyPairs(1)[1], plan.blockTables(1)[1], "row 0 writes its own copy");
            assertEquals(shared1, plan.blockTables(1)[plan.blockTableWidth() + 1], "row 1 keeps the original, now its own");
            plan.markWritten(0, 1);
            plan.markWritten(1, 1);
            planner.complete(plan);
        }
    }

    @Test
    void preemptionKeepsTheWrittenPrefixSoReadmissionHitsIt() {
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 64)) {
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            int[] t = ids(9, 6);
            GroupedStepSequence s = planner.admit(t, 9, PrefixKeys.NONE);
            assertTrue(planner.schedule(s, t, 0, 9));
            GroupedStepPlan plan = planner.plan();
            plan.markWritten(0, 9);
            planner.complete(plan);
            assertEquals(0, s.firstPosition(0), "9 tokens: the window (8) still starts in block 0");
            planner.preempt(s);
            assertEquals(StepSequence.State.PREEMPTED, s.state());
            AdmissionProbe p = planner.probe(t, 9, PrefixKeys.NONE);
            assertEquals(8, p.cachedTokens(), "both groups' two written full blocks");
            GroupedStepSequence again = planner.admit(t, 9, PrefixKeys.NONE);
            assertEquals(8, again.cachedTokens());
            assertEquals(8, again.length());
            assertEquals(1, planner.preemptions());
        }
    }

    @Test
    void theWatermarkKeepsBlocksForRunningSequencesButALoneRequestFits() {
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 8)) {
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 2);
            int[] t = ids(12, 7);
            AdmissionProbe lone = planner.probe(t, 11, PrefixKeys.NONE);
            assertEquals(6, lone.blocksNeeded(), "3 blocks for 12 tokens, in each of 2 groups");
            assertTrue(lone.fitsNow() && lone.fitsEver());
            GroupedStepSequence a = planner.admit(t, 3, PrefixKeys.NONE);
            assertNotNull(a);
            assertTrue(planner.schedule(a, t, 0, 3));
            GroupedStepPlan plan = planner.plan();
            plan.markWritten(0, 3);
            planner.complete(plan); // 1 block per group: 6 available
            AdmissionProbe beside = planner.probe(ids(12, 8), 7, PrefixKeys.NONE);
            assertEquals(4, beside.blocksNeeded(), "2 blocks for 8 tokens, in each group");
            assertTrue(beside.fitsNow(), "6 available - 2 watermark >= 4");
            assertNull(planner.admit(ids(12, 8), 11, PrefixKeys.NONE), "6 + watermark 2 > 6 available");
            assertEquals(1, planner.running());
            assertFalse(planner.probe(ids(40, 9), 40, PrefixKeys.NONE).fitsEver(), "11 blocks per group > 8");
        }
    }

    @Test
    void badArgumentsNameTheValueAndTheLimitAndChangeNothing() {
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, 16)) {
            IllegalArgumentException wm = assertThrows(IllegalArgumentException.class, () -> new GroupedStepPlanner(cache, 16));
            assertTrue(wm.getMessage().contains("watermarkBlocks: 16") && wm.getMessage().contains("< 16"), wm.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new GroupedStepPlanner(cache, -1));
            assertThrows(IllegalArgumentException.class, () -> new GroupedStepPlanner(null, 0));
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            int[] t = ids(8, 10);
            IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                    () -> planner.admit(t, 9, PrefixKeys.NONE));
            assertTrue(len.getMessage().contains("length: 9") && len.getMessage().contains("tokens.length 8"), len.getMessage());
            assertThrows(IllegalArgumentException.class, () -> planner.admit(t, 0, PrefixKeys.NONE));
            assertThrows(IllegalArgumentException.class, () -> planner.probe(null, 1, PrefixKeys.NONE));
            assertThrows(IllegalArgumentException.class, () -> planner.probe(t, 1, null));
            assertEquals(0, planner.running(), "no refused admission opened anything");
            GroupedStepSequence s = planner.admit(t, 4, PrefixKeys.NONE);
            List<Integer> before = List.of(cache.freeBlocks(), cache.usedBlocks(0), cache.usedBlocks(1), s.length());
            IllegalArgumentException from = assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 1, 2));
            assertTrue(from.getMessage().contains("from: 1") && from.getMessage().contains("length 0"), from.getMessage());
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 0, 9));
            assertTrue(range.getMessage().contains("count 9 of 8"), range.getMessage());
            assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> planner.schedule(null, t, 0, 1));
            try (GroupedKvCache other = new GroupedKvCache(MODEL, GROUPS, 4)) {
                GroupedStepPlanner foreign = new GroupedStepPlanner(other, 0);
                assertThrows(IllegalArgumentException.class, () -> foreign.schedule(s, t, 0, 1));
            }
            assertEquals(before, List.of(cache.freeBlocks(), cache.usedBlocks(0), cache.usedBlocks(1), s.length()));
            assertTrue(planner.schedule(s, t, 0, 4));
            assertThrows(IllegalStateException.class, () -> planner.schedule(s, t, 4, 1), "once per step");
            GroupedStepPlan plan = planner.plan();
            assertThrows(IllegalStateException.class, () -> planner.fork(s), "no structural change in flight");
            IllegalArgumentException blk = assertThrows(IllegalArgumentException.class, () -> plan.writableBlock(0, 0, 1));
            assertTrue(blk.getMessage().contains("modelBlock: 1") && blk.getMessage().contains("<= 0"), blk.getMessage());
            IndexOutOfBoundsException grp = assertThrows(IndexOutOfBoundsException.class, () -> plan.slotMapping(2));
            assertTrue(grp.getMessage().contains("group: 2") && grp.getMessage().contains("< 2"), grp.getMessage());
            IndexOutOfBoundsException layer = assertThrows(IndexOutOfBoundsException.class, () -> plan.markWritten(0, 4, 1));
            assertTrue(layer.getMessage().contains("layer: 4") && layer.getMessage().contains("< 4"), layer.getMessage());
            IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> plan.markWritten(0, 1, 5));
            assertTrue(count.getMessage().contains("count: 5") && count.getMessage().contains("4 new tokens"), count.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> plan.queryLength(1));
            assertEquals(0, plan.readableTokens(0, 1), "no refused mark moved");
            planner.complete(plan);
            assertThrows(IllegalStateException.class, () -> planner.complete(plan), "a plan completes once");
            assertThrows(IllegalStateException.class, () -> plan.markWritten(0, 1), "a closed plan refuses writes");
            assertThrows(IllegalStateException.class, () -> planner.schedule(s, t, 4, 1), "the unwritten tail");
        }
    }

    @Test
    void steadyDecodeStepsAllocateNothingWithoutPrefixCachingAndOnlyThePrefixEntriesOfFilledBlocksWithIt() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        for (boolean caching : new boolean[] {false, true}) {
            decodeBytes(threads, caching); // warm up
            long bytes = decodeBytes(threads, caching);
            double perToken = bytes / (8.0 * 900);
            // with caching, a prefix entry per filled block of each group (the sliding group commits on after
            // its releases, by chained hash): about 2 x 257 bytes a block of 4 tokens (measured 120 a token)
            double bound = caching ? 800.0 / 4 : 1.0;
            assertTrue(perToken < bound, (caching ? "with" : "without") + " prefix caching: " + bytes
                    + " bytes for 7,200 tokens (" + perToken + " a token; expected: < " + bound + ")");
        }
    }

    private static long decodeBytes(com.sun.management.ThreadMXBean threads, boolean caching) {
        int rows = 8;
        int unmeasured = 1_068;
        int steps = unmeasured + 900;
        try (GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, rows * (steps / 4 + 20) + rows * 8)) {
            cache.group(0).setPrefixCaching(caching); // one index under every group
            GroupedStepPlanner planner = new GroupedStepPlanner(cache, 0);
            int[][] tokens = new int[rows][];
            GroupedStepSequence[] seqs = new GroupedStepSequence[rows];
            for (int r = 0; r < rows; r++) {
                tokens[r] = ids(steps + 64, 20 + r);
                seqs[r] = planner.admit(tokens[r], 32, PrefixKeys.NONE);
                assertTrue(planner.schedule(seqs[r], tokens[r], 0, 32));
            }
            GroupedStepPlan first = planner.plan();
            for (int r = 0; r < rows; r++) {
                first.markWritten(r, 32);
            }
            planner.complete(first);
            long before = 0;
            for (int step = 0; step < steps; step++) {
                if (step == unmeasured) {
                    before = threads.getCurrentThreadAllocatedBytes();
                }
                for (int r = 0; r < rows; r++) {
                    if (!planner.schedule(seqs[r], tokens[r], seqs[r].length(), 1)) {
                        throw new AssertionError("pool full at step " + step);
                    }
                }
                GroupedStepPlan plan = planner.plan();
                for (int r = 0; r < rows; r++) {
                    for (int l = 0; l < 4; l++) {
                        plan.markWritten(r, l, 1);
                    }
                }
                planner.complete(plan);
            }
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            for (GroupedStepSequence s : seqs) {
                planner.release(s);
            }
            return bytes;
        }
    }
}
