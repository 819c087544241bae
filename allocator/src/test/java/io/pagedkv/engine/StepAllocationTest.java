package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import org.junit.jupiter.api.Test;

/**
 * A steady-state step (schedule one decode token for each of 8 sequences, plan, write every layer
 * through a {@link KvWriter}, complete) allocates nothing on the heap, measured with the JVM's
 * per-thread allocation counter over steps where no per-sequence array grows (sequences of 1,100 to
 * 2,000 tokens: their token ids, block tables and prefix chains doubled last at 1,025 to 1,040
 * tokens; that amortized growth, about 11 bytes a token over a sequence's life, is the rest). With
 * prefix caching on, every filled block also gets its prefix entry (one per 16 tokens), which the
 * bound states separately.
 */
class StepAllocationTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("small", 4, 8, 2, 16), KvDType.F32, 16);
    static final int ROWS = 8;
    /** Decode steps before the measured window: the sequences grow from 32 to 1,100 tokens. */
    static final int UNMEASURED = 1_068;
    /** Measured decode steps: the sequences grow from 1,100 to 2,000 tokens. */
    static final int STEPS = 900;

    @Test
    void decodeStepsAllocateLessThanOneBytePerTokenWithoutPrefixCachingAndOneEntryPerBlockWithIt() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        for (boolean caching : new boolean[] {false, true}) {
            run(threads, caching); // warm up (class loading, JIT)
            long tokens = (long) ROWS * STEPS;
            long bytes = run(threads, caching);
            double perToken = (double) bytes / tokens;
            // a prefix entry, its 16 token ids and its parent's child list: measured 257 bytes a block
            double bound = caching ? 400.0 / LAYOUT.blockSize() : 1.0;
            assertTrue(perToken < bound, (caching ? "with" : "without") + " prefix caching: " + bytes + " bytes for "
                    + tokens + " tokens (" + perToken + " per token; expected: < " + bound + ")");
        }
    }

    /** Bytes this thread allocated over the measured decode steps. */
    private static long run(com.sun.management.ThreadMXBean threads, boolean caching) {
        int steps = UNMEASURED + STEPS;
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, (int) LAYOUT.blocksFor((long) ROWS * (steps + 64)) + ROWS)) {
            cache.setPrefixCaching(caching);
            StepPlanner planner = new StepPlanner(cache, 0);
            KvWriter writer = planner.newWriter();
            int width = LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim();
            float[] k = new float[width];
            float[] v = new float[width];
            int[][] tokens = new int[ROWS][steps + 64];
            StepSequence[] seqs = new StepSequence[ROWS];
            for (int r = 0; r < ROWS; r++) {
                for (int i = 0; i < tokens[r].length; i++) {
                    tokens[r][i] = 1 + (r * 131 + i * 17) % 500;
                }
                seqs[r] = planner.admit(tokens[r], 32, PrefixKeys.NONE);
                planner.schedule(seqs[r], tokens[r], 0, 32);
            }
            StepPlan first = planner.plan();
            for (int r = 0; r < ROWS; r++) {
                StepKv.writeRow(writer, first, r, tokens[r], LAYOUT);
            }
            planner.complete(first);
            long before = 0;
            for (int step = 0; step < steps; step++) {
                if (step == UNMEASURED) {
                    before = threads.getCurrentThreadAllocatedBytes();
                }
                for (int r = 0; r < ROWS; r++) {
                    if (!planner.schedule(seqs[r], tokens[r], seqs[r].length(), 1)) {
                        throw new AssertionError("pool full at step " + step);
                    }
                }
                StepPlan plan = planner.plan();
                for (int r = 0; r < ROWS; r++) {
                    k[0] = step;
                    for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                        writer.write(plan, r, l, 0, 1, k, 0, v, 0);
                    }
                }
                planner.complete(plan);
            }
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            for (StepSequence s : seqs) {
                planner.release(s);
            }
            return bytes;
        }
    }
}
