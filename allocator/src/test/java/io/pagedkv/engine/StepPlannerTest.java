package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixCacheStats;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The step API's contract, one promise per test: plan arrays, all-or-nothing, probe, watermark, preemption, threading. */
class StepPlannerTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 2, 1, 4), KvDType.F32, 4);

    static int[] ids(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + (seed * 31 + i * 7) % 97;
        }
        return t;
    }

    /** Schedules the uncomputed rest of {@code tokens[0 .. length)} for each sequence, plans, writes, completes. */
    static StepPlan step(StepPlanner planner, KvWriter writer, List<StepSequence> seqs, List<int[]> tokens, int length) {
        for (int i = 0; i < seqs.size(); i++) {
            StepSequence s = seqs.get(i);
            assertTrue(planner.schedule(s, tokens.get(i), s.length(), length - s.length()));
        }
        StepPlan plan = planner.plan();
        for (int r = 0; r < plan.rows(); r++) {
            StepKv.writeRow(writer, plan, r, tokens.get(seqs.indexOf(plan.sequence(r))), LAYOUT);
        }
        return plan;
    }

    @Test
    void thePlanHandsOutSlotMappingPaddedBlockTablesQueryStartsAndLengthsOfTheBatch() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 32)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            int[] a = ids(9, 1);
            int[] b = ids(3, 2);
            StepSequence sa = planner.admit(a, 9, PrefixKeys.NONE);
            StepSequence sb = planner.admit(b, 3, PrefixKeys.NONE);
            assertTrue(planner.schedule(sa, a, 0, 6));  // a prefill chunk
            assertTrue(planner.schedule(sb, b, 0, 3));  // a whole short prompt
            StepPlan plan = planner.plan();
            assertEquals(2, plan.rows());
            assertEquals(9, plan.tokens());
            assertEquals(2, plan.blockTableWidth(), "a has 2 blocks (6 tokens), b 1");
            assertArrayEquals(new int[] {0, 6, 9}, Arrays.copyOf(plan.queryStartLoc(), 3));
            assertArrayEquals(new int[] {6, 3}, Arrays.copyOf(plan.seqLens(), 2));
            assertArrayEquals(new int[] {0, 0}, Arrays.copyOf(plan.contextLens(), 2));
            int[] tables = Arrays.copyOf(plan.blockTables(), 4);
            assertArrayEquals(new int[] {sa.blockId(0), sa.blockId(1), sb.blockId(0), StepPlan.PAD}, tables);
            for (int p = 0; p < 6; p++) {
                assertEquals(sa.blockId(p / 4) * 4 + p % 4, plan.slotMapping()[p], "slot of a's token " + p);
            }
            for (int p = 0; p < 3; p++) {
                assertEquals(sb.blockId(0) * 4 + p, plan.slotMapping()[6 + p], "slot of b's token " + p);
            }
            assertSegmentEquals(plan.slotMapping(), 9, plan.slotMappingSegment());
            assertSegmentEquals(plan.blockTables(), 4, plan.blockTablesSegment());
            assertSegmentEquals(plan.queryStartLoc(), 3, plan.queryStartLocSegment());
            assertSegmentEquals(plan.seqLens(), 2, plan.seqLensSegment());
            assertSegmentEquals(plan.contextLens(), 2, plan.contextLensSegment());
            assertTrue(plan.slotMappingSegment().isReadOnly(), "kernels cannot change the plan");
            assertEquals(0, plan.copies());
            assertEquals(sa, plan.sequence(0));
            assertEquals(1, sb.row());
            KvWriter w = planner.newWriter();
            StepKv.writeRow(w, plan, 0, a, LAYOUT);
            StepKv.writeRow(w, plan, 1, b, LAYOUT);
            assertEquals(2, planner.complete(plan));
            assertEquals(-1, sa.row());
            // the next step: a's rest of the prompt, b's first decode token, with a context now
            int[] b2 = Arrays.copyOf(b, 4);
            b2[3] = 42;
            assertTrue(planner.schedule(sb, b2, 3, 1));
            assertTrue(planner.schedule(sa, a, 6, 3));
            plan = planner.plan();
            assertArrayEquals(new int[] {0, 1, 4}, Arrays.copyOf(plan.queryStartLoc(), 3));
            assertArrayEquals(new int[] {4, 9}, Arrays.copyOf(plan.seqLens(), 2));
            assertArrayEquals(new int[] {3, 6}, Arrays.copyOf(plan.contextLens(), 2));
            assertEquals(3, plan.blockTableWidth());
            assertArrayEquals(new int[] {sb.blockId(0), StepPlan.PAD, StepPlan.PAD, sa.blockId(0), sa.blockId(1),
                    sa.blockId(2)}, Arrays.copyOf(plan.blockTables(), 6));
            StepKv.writeRow(w, plan, 0, b2, LAYOUT);
            StepKv.writeRow(w, plan, 1, a, LAYOUT);
            planner.complete(plan);
            StepKv.assertReadsBack(sa, a, LAYOUT);
            StepKv.assertReadsBack(sb, b2, LAYOUT);
            assertEquals(2L, planner.steps());
        }
    }

    static void assertSegmentEquals(int[] want, int n, MemorySegment got) {
        assertTrue(got.byteSize() >= 4L * n);
        for (int i = 0; i < n; i++) {
            assertEquals(want[i], got.getAtIndex(ValueLayout.JAVA_INT, i), "segment entry " + i);
        }
    }

    @Test
    void aSequenceThatDoesNotFitIsRefusedWholeAndNothingChanges() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] a = ids(17, 3);
            StepSequence s = planner.admit(a, 7, PrefixKeys.NONE);
            assertNotNull(s);
            planner.complete(step(planner, w, List.of(s), List.of(a), 7));
            CacheStats before = cache.stats();
            int[] table = {s.blockId(0), s.blockId(1)};
            assertFalse(planner.schedule(s, a, 7, 10), "17 tokens need 5 blocks: 3 more, and 2 are free");
            assertEquals(before, cache.stats());
            assertEquals(7, s.length());
            assertEquals(2, s.blockCount());
            assertArrayEquals(table, new int[] {s.blockId(0), s.blockId(1)});
            assertEquals(0, planner.scheduledCount(), "the refused sequence is not in the step");
            assertTrue(planner.schedule(s, a, 7, 9), "16 tokens (4 blocks) still fit");
        }
    }

    @Test
    void aForksCopyOnWriteIsAppliedWhileTheStepIsPlannedAndReportedAsAPair() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] a = ids(8, 4);
            StepSequence parent = planner.admit(a, 6, PrefixKeys.NONE);
            planner.complete(step(planner, w, List.of(parent), List.of(a), 6));
            StepSequence child = planner.fork(parent);
            int shared = parent.blockId(1);
            assertEquals(shared, child.blockId(1), "the partly filled block is shared");
            int[] b = a.clone();
            b[6] = 77;
            assertTrue(planner.schedule(parent, a, 6, 1));
            assertTrue(planner.schedule(child, b, 6, 1));
            StepPlan plan = planner.plan();
            assertEquals(1, plan.copies(), "one of the two copies the shared block; the other then owns it alone");
            int from = plan.copyPairs()[0];
            int to = plan.copyPairs()[1];
            assertEquals(shared, from);
            assertTrue(to == parent.blockId(1) || to == child.blockId(1));
            assertNotEquals(parent.blockId(1), child.blockId(1), "every new token's block is its row's own");
            assertEquals(1, cache.pool().refCount(parent.blockId(1)));
            assertEquals(1, cache.pool().refCount(child.blockId(1)));
            StepKv.assertReadsBack(parent, a, LAYOUT); // the copy carried the 6 written tokens over
            StepKv.assertReadsBack(child, a, LAYOUT);
            StepKv.writeRow(w, plan, 0, a, LAYOUT);
            StepKv.writeRow(w, plan, 1, b, LAYOUT);
            planner.complete(plan);
            StepKv.assertReadsBack(parent, a, LAYOUT);
            StepKv.assertReadsBack(child, b, LAYOUT);
        }
    }

    /** Two cached chains, A older than B in the LRU; one block of room besides them. */
    static final class TwoChains implements AutoCloseable {
        final PagedKvCache cache = new PagedKvCache(LAYOUT, 5);
        final StepPlanner planner = new StepPlanner(cache, 0);
        final int[] a = ids(9, 5);
        final int[] b = ids(9, 6);

        TwoChains() {
            KvWriter w = planner.newWriter();
            for (int[] t : new int[][] {a, b}) {
                StepSequence s = planner.admit(t, 8, PrefixKeys.NONE);
                planner.complete(step(planner, w, List.of(s), List.of(t), 8));
                planner.release(s);
            }
        }

        /** Takes 3 blocks: the free one, then the two oldest cached ones. */
        Sequence hog() {
            Sequence hog = cache.openSequence();
            assertTrue(hog.tryAppend(12));
            return hog;
        }

        @Override
        public void close() {
            cache.close();
        }
    }

    @Test
    void theProbeTouchesNeitherTheLruOrderNorTheCountersSoARefusedRequestLeavesTheCacheAsItWas() {
        try (TwoChains t = new TwoChains()) {
            assertEquals(4, t.cache.stats().cachedBlocks());
            PrefixCacheStats before = t.cache.prefixStats();
            AdmissionProbe p = t.planner.probe(t.a, 9, PrefixKeys.NONE);
            assertEquals(8, p.cachedTokens());
            assertEquals(3, p.blocksNeeded(), "10 tokens: 3 blocks, of which 2 are reused, but both are cached-unreferenced");
            assertEquals(before, t.cache.prefixStats(), "no query, hit or token counted");
            Sequence hog = t.hog();
            assertEquals(0, t.planner.probe(t.a, 9, PrefixKeys.NONE).cachedTokens(), "A was still the oldest: reclaimed");
            assertEquals(8, t.planner.probe(t.b, 9, PrefixKeys.NONE).cachedTokens(), "B, younger, stays cached");
            hog.close();
        }
        // the old way (open, see it does not fit, close) moved A to the young end: B was reclaimed instead
        try (TwoChains t = new TwoChains()) {
            PrefixCacheStats before = t.cache.prefixStats();
            t.cache.openSequence(Arrays.copyOf(t.a, 9)).close();
            assertNotEquals(before, t.cache.prefixStats(), "opening counts a query and a hit");
            Sequence hog = t.hog();
            assertEquals(8, t.planner.probe(t.a, 9, PrefixKeys.NONE).cachedTokens());
            assertEquals(0, t.planner.probe(t.b, 9, PrefixKeys.NONE).cachedTokens());
            hog.close();
        }
    }

    @Test
    void aRefusedAdmissionChangesNothingAndAnAcceptedOneCountsOnce() {
        try (TwoChains t = new TwoChains()) {
            Sequence hog = t.cache.openSequence();
            assertTrue(hog.tryAppend(4)); // the free block
            PrefixCacheStats before = t.cache.prefixStats();
            CacheStats stats = t.cache.stats();
            assertNull(t.planner.admit(ids(20, 9), 20, PrefixKeys.NONE), "6 blocks needed, 4 available");
            assertEquals(before, t.cache.prefixStats());
            assertEquals(stats, t.cache.stats());
            assertEquals(0, t.planner.running());
            StepSequence s = t.planner.admit(t.a, 9, PrefixKeys.NONE);
            assertNotNull(s);
            assertEquals(8, s.cachedTokens());
            assertEquals(before.queries() + 1, t.cache.prefixStats().queries());
            hog.close();
        }
    }

    @Test
    void anAdmissionThatSaysYesAlwaysGetsItsWholePromptScheduled() {
        Property.forAll(Gens.ints(1, 40), Gens.ints(0, 6), Gens.ints(0, 1 << 20)).tries(60).check((len, others, seed) -> {
            try (PagedKvCache cache = new PagedKvCache(LAYOUT, 12)) {
                StepPlanner planner = new StepPlanner(cache, 2);
                KvWriter w = planner.newWriter();
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
                // a random past: cached chains, running sequences of random lengths
                int[] shared = ids(40, 7);
                List<StepSequence> running = new ArrayList<>();
                List<int[]> runningTokens = new ArrayList<>();
                for (int i = 0; i < others; i++) {
                    int[] t = rnd.nextBoolean() ? shared : ids(40, 100 + i);
                    int n = 1 + rnd.nextInt(12);
                    StepSequence s = planner.admit(t, n, PrefixKeys.NONE);
                    if (s == null) {
                        continue;
                    }
                    if (s.length() < n) {
                        planner.complete(step(planner, w, List.of(s), List.of(t), n));
                    }
                    if (rnd.nextBoolean()) {
                        planner.release(s);
                    } else {
                        running.add(s);
                        runningTokens.add(t);
                    }
                }
                int[] prompt = rnd.nextBoolean() ? shared : ids(40, 999);
                AdmissionProbe probe = planner.probe(prompt, len, PrefixKeys.NONE);
                StepSequence s = planner.admit(prompt, len, PrefixKeys.NONE);
                assertEquals(probe.fitsNow(), s != null, "admit decides as the probe did");
                if (s != null) {
                    assertEquals(probe.cachedTokens(), s.cachedTokens(), "the open reuses what the probe saw");
                    int[] more = Arrays.copyOf(prompt, len + 1);
                    assertTrue(planner.schedule(s, more, s.length(), len + 1 - s.length()),
                            "the whole prompt and one generated token fit after a yes: " + probe);
                }
            }
        });
    }

    @Test
    void theWatermarkKeepsBlocksForRunningSequencesButALoneRequestFits() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 6)) {
            StepPlanner planner = new StepPlanner(cache, 2);
            int[] t = ids(40, 8);
            AdmissionProbe lone = planner.probe(t, 19, PrefixKeys.NONE);
            assertEquals(5, lone.blocksNeeded());
            assertTrue(lone.fitsNow(), "alone, 5 of 6 blocks fit although the watermark is 2");
            StepSequence first = planner.admit(t, 3, PrefixKeys.NONE);
            assertNotNull(first);
            planner.complete(step(planner, planner.newWriter(), List.of(first), List.of(t), 3)); // 1 block; 5 left
            AdmissionProbe second = planner.probe(ids(40, 9), 12, PrefixKeys.NONE);
            assertEquals(4, second.blocksNeeded());
            assertFalse(second.fitsNow(), "4 + watermark 2 > 5 available while another runs");
            assertTrue(planner.probe(ids(40, 9), 11, PrefixKeys.NONE).fitsNow(), "3 + 2 <= 5");
            assertFalse(planner.probe(ids(40, 9), 40, PrefixKeys.NONE).fitsEver(), "11 blocks never fit in 6");
        }
    }

    @Test
    void preemptionKeepsTheWrittenPrefixSoReadmissionHitsItAndRecomputesOnlyTheRest() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] t = ids(12, 10);
            StepSequence s = planner.admit(t, 11, PrefixKeys.NONE);
            planner.complete(step(planner, w, List.of(s), List.of(t), 11));
            planner.preempt(s);
            assertEquals(StepSequence.State.PREEMPTED, s.state());
            assertEquals(1L, planner.preemptions());
            assertEquals(0, cache.stats().usedBlocks());
            assertEquals(2, cache.stats().cachedBlocks(), "the 2 full written blocks stay cached");
            StepSequence again = planner.admit(t, 11, PrefixKeys.NONE);
            assertEquals(8, again.cachedTokens());
            StepKv.assertReadsBack(again, t, LAYOUT);
            assertThrows(IllegalStateException.class, () -> planner.schedule(s, t, 0, 1), "a preempted handle is dead");
        }
    }

    @Test
    void onlyTheOwnerThreadMayPlan() throws ExecutionException, InterruptedException {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            StepSequence s = planner.admit(ids(4, 1), 4, PrefixKeys.NONE); // this thread becomes the owner
            CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
                try {
                    planner.plan();
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            Throwable t = other.get();
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("owner thread"), String.valueOf(t));
            assertEquals(1, planner.running(), "queries work from any thread");
            assertNotNull(planner.newWriter());
            planner.release(s);
        }
    }

    @Test
    void structuralChangesAreRefusedWhileAStepIsInFlightAndWritesAfterItCompletes() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] t = ids(8, 11);
            StepSequence s = planner.admit(t, 5, PrefixKeys.NONE);
            StepSequence idle = planner.admit(ids(8, 12), 3, PrefixKeys.NONE);
            assertTrue(planner.schedule(s, t, 0, 5));
            assertThrows(IllegalStateException.class, () -> planner.fork(s), "scheduled in the step being built");
            assertThrows(IllegalStateException.class, () -> planner.preempt(s));
            assertThrows(IllegalStateException.class, () -> planner.schedule(s, t, 5, 1), "once per step");
            StepPlan plan = planner.plan();
            assertThrows(IllegalStateException.class, () -> planner.fork(idle));
            assertThrows(IllegalStateException.class, () -> planner.release(idle));
            assertThrows(IllegalStateException.class, () -> planner.admit(t, 2, PrefixKeys.NONE));
            assertThrows(IllegalStateException.class, () -> planner.schedule(idle, t, 0, 1));
            assertThrows(IllegalStateException.class, planner::plan);
            StepKv.writeRow(w, plan, 0, t, LAYOUT);
            planner.complete(plan);
            assertThrows(IllegalStateException.class, () -> planner.complete(plan));
            float[] kv = new float[4];
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> w.write(plan, 0, 0, 0, 1, kv, 0, kv, 0));
            assertTrue(e.getMessage().contains("not in flight"), e.getMessage());
            planner.release(idle);
            assertNotNull(planner.fork(s));
        }
    }

    @Test
    void eachRowAndLayerIsWrittenInOrderAndKernelsReadOnlyUpToTheWrittenMark() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] t = ids(8, 13);
            StepSequence s = planner.admit(t, 6, PrefixKeys.NONE);
            assertTrue(planner.schedule(s, t, 0, 6));
            StepPlan plan = planner.plan();
            float[] k = new float[6 * 4];
            float[] v = new float[6 * 4];
            StepKv.fill(k, t, 0, 6, 0, 0, LAYOUT);
            StepKv.fill(v, t, 0, 6, 0, 1, LAYOUT);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.write(plan, 0, 0, 2, 2, k, 8, v, 8));
            assertTrue(e.getMessage().contains("expected: 0"), e.getMessage());
            assertEquals(0, plan.readableTokens(0, 0));
            w.write(plan, 0, 0, 0, 2, k, 0, v, 0);
            assertEquals(2, plan.readableTokens(0, 0), "layer 0 readable up to the 2 written tokens");
            assertEquals(0, plan.readableTokens(0, 1), "layer 1 not written yet");
            float[] out = new float[4];
            assertThrows(IllegalStateException.class, () -> s.readKey(0, 0, 2, out, 0), "past the mark");
            w.write(plan, 0, 0, 2, 4, k, 8, v, 8);
            assertEquals(6, plan.readableTokens(0, 0));
            assertEquals(0, planner.complete(plan), "layer 1 was never written: the row is incomplete");
            assertEquals(0, s.writtenTokens());
            assertEquals(0, cache.stats().cachedBlocks());
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> planner.schedule(s, t, 6, 1));
            assertTrue(again.getMessage().contains("reserved but not written"), again.getMessage());
            planner.preempt(s);
            assertEquals(0, cache.stats().cachedBlocks(), "an unwritten block is never committed, not even by preemption");
            assertEquals(0, planner.probe(t, 6, PrefixKeys.NONE).cachedTokens());
        }
    }

    @Test
    void enginesWithTheirOwnKernelsGetWritableBlocksOnlyWhereNewTokensGoAndDeclareWhatTheyWrote() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter w = planner.newWriter();
            int[] t = ids(12, 14);
            StepSequence s = planner.admit(t, 6, PrefixKeys.NONE);
            planner.complete(step(planner, w, List.of(s), List.of(t), 6));
            assertTrue(planner.schedule(s, t, 6, 3)); // positions 6, 7 (block 1) and 8 (block 2)
            StepPlan plan = planner.plan();
            assertThrows(IllegalArgumentException.class, () -> plan.writableBlock(0, 0), "block 0 is not written this step");
            MemorySegment b1 = plan.writableBlock(0, 1);
            MemorySegment b2 = plan.writableBlock(0, 2);
            assertFalse(b1.isReadOnly());
            for (int l = 0; l < 2; l++) {
                for (int i = 0; i < 3; i++) {
                    int pos = 6 + i;
                    int slot = plan.slotMapping()[plan.queryStart(0) + i];
                    assertEquals(pos % 4, slot % 4);
                    MemorySegment dst = pos < 8 ? b1 : b2;
                    for (int kv = 0; kv < 2; kv++) {
                        for (int j = 0; j < 4; j++) {
                            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, LAYOUT.offset(l, kv, 0, slot % 4) + 4L * j,
                                    StepKv.value(t[pos], pos, l, kv, 0, j));
                        }
                    }
                }
                plan.markWritten(0, l, 3);
            }
            assertThrows(IllegalArgumentException.class, () -> plan.markWritten(0, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> plan.markWritten(0, 4));
            plan.markWritten(0, 3); // every layer at once (a fused kernel): nothing more to say here
            assertEquals(1, planner.complete(plan));
            assertEquals(9, s.writtenTokens());
            StepKv.assertReadsBack(s, t, LAYOUT);
        }
    }

    @Test
    void badArgumentsNameTheValueAndTheLimitAndChangeNothing() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            assertThrows(IllegalArgumentException.class, () -> new StepPlanner(cache, 16));
            assertThrows(IllegalArgumentException.class, () -> new StepPlanner(cache, -1));
            assertThrows(IllegalArgumentException.class, () -> new StepPlanner(null, 0));
            StepPlanner planner = new StepPlanner(cache, 0);
            int[] t = ids(8, 15);
            assertThrows(IllegalArgumentException.class, () -> planner.admit(t, 0, PrefixKeys.NONE));
            assertThrows(IllegalArgumentException.class, () -> planner.admit(t, 9, PrefixKeys.NONE));
            assertThrows(IllegalArgumentException.class, () -> planner.admit(null, 1, PrefixKeys.NONE));
            assertThrows(IllegalArgumentException.class, () -> planner.admit(t, 1, null));
            StepSequence s = planner.admit(t, 4, PrefixKeys.NONE);
            CacheStats before = cache.stats();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 1, 2));
            assertTrue(e.getMessage().contains("from: 1") && e.getMessage().contains("length 0"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> planner.schedule(s, t, 0, 9));
            assertEquals(before, cache.stats());
            assertTrue(planner.schedule(s, t, 0, 4));
            StepPlan plan = planner.plan();
            KvWriter w = planner.newWriter();
            float[] kv = new float[16];
            assertThrows(IndexOutOfBoundsException.class, () -> w.write(plan, 1, 0, 0, 1, kv, 0, kv, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> w.write(plan, 0, 2, 0, 1, kv, 0, kv, 0));
            assertThrows(IllegalArgumentException.class, () -> w.write(plan, 0, 0, 0, 5, kv, 0, kv, 0));
            assertThrows(IllegalArgumentException.class, () -> w.write(plan, 0, 0, 0, 4, kv, 1, kv, 0));
            MemorySegment seg = MemorySegment.ofArray(new byte[64]);
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> w.write(plan, 0, 0, 0, 1, KvDType.Q8_0, seg, 0, seg, 0));
            assertTrue(dtype.getMessage().contains("F32, F16 or BF16"), dtype.getMessage());
            assertThrows(IllegalArgumentException.class, () -> w.write(plan, 0, 0, 0, 4, KvDType.F32, seg, 8, seg, 0));
            try (PagedKvCache other = new PagedKvCache(LAYOUT, 4)) {
                KvWriter foreign = new StepPlanner(other, 0).newWriter();
                assertThrows(IllegalArgumentException.class, () -> foreign.write(plan, 0, 0, 0, 1, kv, 0, kv, 0));
            }
            assertEquals(0, plan.readableTokens(0, 0), "no refused write moved a mark");
            planner.complete(plan);
        }
    }
}
