package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The threading contract under stress: one scheduler thread owns the planner (admits, schedules with
 * preemption when the pool runs dry, plans, completes, releases), three worker threads split every
 * step into (row, layer) tasks, write them through their own {@link KvWriter}s and read back, through
 * the plan's block tables, every readable token of the layer they wrote, while a fifth thread uses
 * the old per-sequence API on its own sequences of the same cache. Every read is the request's own
 * K/V; at the end nothing is leaked.
 */
class StepApiStressTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("small", 4, 4, 2, 8), KvDType.F32, 4);
    static final int WORKERS = 3;
    static final int STEPS = 400;

    @Test
    void oneSchedulerAndThreeWorkersPlanWriteAndReadThroughThePlanWithoutTakingTheSchedulersLock() throws Exception {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 96)) {
            StepPlanner planner = new StepPlanner(cache, 2);
            AtomicReference<StepPlan> current = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicInteger nextTask = new AtomicInteger();
            AtomicInteger tasksDone = new AtomicInteger();
            List<int[]> tokensOfRow = new ArrayList<>();
            CyclicBarrier start = new CyclicBarrier(WORKERS + 1);
            CyclicBarrier end = new CyclicBarrier(WORKERS + 1);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                KvWriter writer = planner.newWriter();
                Thread t = new Thread(() -> {
                    try {
                        while (true) {
                            start.await(30, TimeUnit.SECONDS);
                            StepPlan plan = current.get();
                            if (plan == null) {
                                return;
                            }
                            int tasks = plan.rows() * LAYOUT.shape().layers();
                            for (int task; (task = nextTask.getAndIncrement()) < tasks; ) {
                                int row = task / LAYOUT.shape().layers();
                                int layer = task % LAYOUT.shape().layers();
                                writeAndRead(writer, plan, row, layer, tokensOfRow.get(row));
                                tasksDone.incrementAndGet();
                            }
                            end.await(30, TimeUnit.SECONDS);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        start.reset();
                        end.reset();
                    }
                }, "step-worker-" + w);
                threads.add(t);
                t.start();
            }
            Thread bystander = new Thread(() -> oldApiBystander(cache, failure), "old-api");
            bystander.start();

            SplittableRandom rnd = new SplittableRandom(11);
            List<StepSequence> running = new ArrayList<>();
            List<int[]> tokens = new ArrayList<>();
            long plannedTokens = 0;
            for (int step = 0; step < STEPS && failure.get() == null; step++) {
                while (running.size() < 10) {
                    int[] t = StepPlannerTest.ids(64, rnd.nextInt(6)); // few distinct prompts: prefix hits
                    StepSequence s = planner.admit(t, 4 + rnd.nextInt(30), PrefixKeys.NONE);
                    if (s == null) {
                        break;
                    }
                    running.add(s);
                    tokens.add(t);
                }
                tokensOfRow.clear();
                for (int i = 0; i < running.size(); i++) {
                    StepSequence s = running.get(i);
                    int len = s.length();
                    if (len >= 60) {
                        planner.release(s);
                        running.remove(i);
                        tokens.remove(i);
                        i--;
                        continue;
                    }
                    int n = 1 + rnd.nextInt(Math.min(6, 64 - len));
                    boolean ok = planner.schedule(s, tokens.get(i), len, n);
                    while (!ok && running.size() - 1 > i) { // preempt the youngest, as an engine does
                        planner.preempt(running.removeLast());
                        tokens.removeLast();
                        ok = planner.schedule(s, tokens.get(i), len, n);
                    }
                    if (ok) {
                        tokensOfRow.add(tokens.get(i));
                    }
                }
                StepPlan plan = planner.plan();
                plannedTokens += plan.tokens();
                nextTask.set(0);
                current.set(plan);
                try {
                    start.await(30, TimeUnit.SECONDS);
                    end.await(30, TimeUnit.SECONDS);
                } catch (BrokenBarrierException e) {
                    throw new AssertionError("a worker failed", failure.get());
                }
                assertEquals(plan.rows(), planner.complete(plan), "every row written in every layer");
            }
            current.set(null);
            if (failure.get() == null) {
                start.await(30, TimeUnit.SECONDS);
            }
            for (Thread t : threads) {
                t.join(30_000);
            }
            bystander.join(30_000);
            if (failure.get() != null) {
                throw new AssertionError("a thread failed", failure.get());
            }
            for (int i = 0; i < running.size(); i++) {
                StepKv.assertReadsBack(running.get(i), tokens.get(i), LAYOUT);
                planner.release(running.get(i));
            }
            CacheStats st = cache.stats();
            assertEquals(0, st.usedBlocks(), "nothing leaked");
            assertEquals(st.totalBlocks(), st.freeBlocks() + st.cachedBlocks());
            assertTrue(plannedTokens > STEPS, "steps carried tokens: " + plannedTokens);
            assertTrue(tasksDone.get() > STEPS * LAYOUT.shape().layers(), "workers shared the steps: " + tasksDone);
        }
    }

    /** One (row, layer) task: write the row's chunk of that layer, then read every readable token back. */
    static void writeAndRead(KvWriter writer, StepPlan plan, int row, int layer, int[] tokens) {
        int start = plan.contextLength(row);
        int count = plan.queryLength(row);
        int width = LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim();
        float[] k = new float[count * width];
        float[] v = new float[count * width];
        StepKv.fill(k, tokens, start, count, layer, 0, LAYOUT);
        StepKv.fill(v, tokens, start, count, layer, 1, LAYOUT);
        writer.write(plan, row, layer, 0, count, k, 0, v, 0);
        int readable = plan.readableTokens(row, layer);
        if (readable < start + count) {
            throw new AssertionError("readable " + readable + " after writing to " + (start + count));
        }
        var table = plan.blockTable(row);
        for (int p = 0; p < readable; p++) {
            MemorySegment block = table.block(p / LAYOUT.blockSize());
            for (int h = 0; h < LAYOUT.shape().kvHeads(); h++) {
                for (int kv = 0; kv < 2; kv++) {
                    long off = LAYOUT.offset(layer, kv, h, p % LAYOUT.blockSize());
                    for (int j = 0; j < LAYOUT.shape().headDim(); j++) {
                        float got = block.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * j);
                        float want = StepKv.value(tokens[p], p, layer, kv, h, j);
                        if (got != want) {
                            throw new AssertionError("row " + row + " layer " + layer + " pos " + p + ": " + got
                                    + " (expected: " + want + ")");
                        }
                    }
                }
            }
        }
    }

    /** Opens, appends, writes, reads and closes its own sequences with the per-sequence API. */
    static void oldApiBystander(PagedKvCache cache, AtomicReference<Throwable> failure) {
        float[] kv = new float[LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim()];
        float[] out = new float[LAYOUT.shape().headDim()];
        try {
            for (int round = 0; round < 300 && failure.get() == null; round++) {
                Sequence s = cache.openSequence();
                if (s.tryAppend(5)) {
                    for (int p = 0; p < 5; p++) {
                        kv[0] = round * 10 + p;
                        for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                            s.write(l, p, kv, kv);
                        }
                    }
                    for (int p = 0; p < 5; p++) {
                        s.readKey(3, 0, p, out, 0);
                        if (out[0] != round * 10 + p) {
                            throw new AssertionError("old API read " + out[0] + " (expected: " + (round * 10 + p) + ")");
                        }
                    }
                }
                s.close();
                Thread.onSpinWait();
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }
}
