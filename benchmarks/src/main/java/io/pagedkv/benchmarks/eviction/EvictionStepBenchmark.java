package io.pagedkv.benchmarks.eviction;

import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.KeyNorm;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.eviction.Tova;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step of an eviction policy in steady state, in the library's step order: evict one token
 * to make room, place the new token in the victim's slot, hand the policy its key (key norm) or the
 * step's reduced attention row (H2O, TOVA). The sequence has seen {@code context} tokens; the policy keeps
 * {@code budget}: {@code fixed} = 1024 tokens whatever the context, {@code fifth} = 20% of the
 * context (live tokens then grow with it, and so does the attention row an attention-based policy
 * must read). {@code h2o-sort} is a baseline that does what this library avoids: H2O that sorts its
 * candidates every step. Attention rows are drawn once in setup (8 rotating rows, so no single row is
 * learnt by the branch predictor).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class EvictionStepBenchmark {

    private static final int ROWS = 8;

    @Param({"4096", "32768", "131072"})
    public int context;

    @Param({"window", "sinks", "h2o", "tova", "knorm", "h2o-sort"})
    public String policy;

    @Param({"fixed", "fifth"})
    public String budget;

    private EvictionPolicy p;
    private SortingH2o sorting;
    private float[][] rows;
    private float[] key;
    private int[] victims;
    private int position;
    private int step;
    private int slots;

    /** Fills the policy with {@code context} tokens and compresses it to its budget. */
    @Setup(Level.Trial)
    public void setUp() {
        int b = budget.equals("fixed") ? 1024 : context / 5;
        p = switch (policy) {
            case "window" -> new SlidingWindow(b);
            case "sinks" -> new AttentionSinks(b);
            case "h2o", "h2o-sort" -> new HeavyHitters(b, b - b / 2, HeavyHitters.Accumulation.SUM);
            case "tova" -> new Tova(b);
            case "knorm" -> new KeyNorm(b, 4, b / 2);
            default -> throw new IllegalArgumentException("policy: " + policy);
        };
        SplittableRandom rnd = new SplittableRandom(42);
        key = new float[128];
        victims = new int[context];
        for (int t = 0; t < context; t++) {
            p.onAppend(t, t);
            if (p.usesKeys()) {
                fillKey(rnd);
                p.onKey(0, 0, t, key, 0, key.length);
            }
        }
        rows = new float[ROWS][context];
        for (float[] row : rows) {
            for (int i = 0; i < context; i++) {
                row[i] = (float) (rnd.nextDouble() / context);
            }
        }
        p.onAttention(0, 0, rows[0], 0, context);
        int n = p.evict(0, victims);
        // Compact by hand so that live slots are 0 .. b-1 and the step's rows cover b + 1 slots.
        int live = p.liveTokens();
        int hole = 0;
        boolean[] free = new boolean[context];
        for (int i = 0; i < n; i++) {
            free[victims[i]] = true;
        }
        for (int from = context - 1; from >= live; from--) {
            if (free[from]) {
                continue;
            }
            while (!free[hole]) {
                hole++;
            }
            p.onMove(from, hole);
            free[hole] = false;
            free[from] = true;
        }
        slots = live;
        position = context;
        if (policy.equals("h2o-sort")) {
            sorting = new SortingH2o((HeavyHitters) p, slots);
        }
        for (int i = 0; i < 2_000; i++) {
            step();
        }
    }

    private void fillKey(SplittableRandom rnd) {
        for (int k = 0; k < key.length; k++) {
            key[k] = (float) rnd.nextGaussian();
        }
    }

    /** One decode step; returns the victim's slot so nothing is dead code. */
    @Benchmark
    public int step() {
        if (sorting != null) {
            sorting.sortCandidates();
        }
        int n = p.evict(1, victims);
        if (n != 1) {
            throw new IllegalStateException("evicted " + n + " (expected: 1)");
        }
        int freeSlot = victims[0];
        p.onAppend(freeSlot, position++);
        if (p.usesKeys()) {
            key[step & 127] = (float) (step & 7);
            p.onKey(0, 0, freeSlot, key, 0, key.length);
        }
        if (p.usesAttention()) {
            p.onAttention(0, 0, rows[step & (ROWS - 1)], 0, slots);
        }
        step++;
        return freeSlot;
    }

    /** The baseline's extra work: sort every live token by score each step, as a naive H2O would. */
    static final class SortingH2o {
        private final HeavyHitters h2o;
        private final long[] keys;
        private final int slots;

        SortingH2o(HeavyHitters h2o, int slots) {
            this.h2o = h2o;
            this.slots = slots;
            this.keys = new long[slots];
        }

        long sortCandidates() {
            int n = 0;
            for (int s = 0; s < slots; s++) {
                if (h2o.isLive(s)) {
                    keys[n++] = ((long) Float.floatToRawIntBits(h2o.scoreOf(s)) << 32) | h2o.positionOf(s);
                }
            }
            Arrays.sort(keys, 0, n);
            return keys[0];
        }
    }
}
