package io.pagedkv.benchmarks.engine;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.model.ModelShape;
import io.pagedkv.workload.Trace;
import io.pagedkv.workload.TraceRequest;
import io.pagedkv.workload.Workload;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The bookkeeping of one engine step on the step API, what vLLM's scheduler spends in
 * {@code allocate_slots} and its model runner in building {@code slot_mapping} and
 * {@code block_tables}: for each of {@value #BATCH} running ShareGPT-shaped requests (seeded trace,
 * prompts of mean 161 tokens, outputs of mean 338; random token ids, so nothing is shared),
 * {@link StepPlanner#schedule} its next token (or its next prefill chunk of at most {@value #CHUNK}
 * tokens), {@link StepPlanner#plan()}, state that the kernels wrote every layer
 * ({@link StepPlan#markWritten(int, int)}), {@link StepPlanner#complete}; a request that finished
 * is released and the next one of the trace admitted in its place (probe, open). No K/V byte is
 * written: this is the cost an engine pays around its kernels.
 *
 * <p>{@code prefixCaching}: on, every block a request fills is hashed and indexed at completion and
 * released blocks stay cached (reclaimed from the LRU later); off, none of that. The pool is sized so
 * that nothing is preempted. Secondary results: time per scheduled row ({@code rows}) and per new
 * token ({@code tokens}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class EngineStepBenchmark {

    /** Requests running at once. */
    public static final int BATCH = 64;
    /** Most prompt tokens a request prefills in one step. */
    public static final int CHUNK = 512;
    /** Requests in the trace (cycled). */
    static final int TRACE = 1000;

    /** 32 layers as Llama-3.1-8B (one written mark per layer); a tiny head: no K/V byte is touched. */
    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("bench-32-layers", 32, 1, 1, 4), KvDType.F16, 16);

    /** Whether completed blocks are indexed in the prefix cache. */
    @Param({"true", "false"})
    public boolean prefixCaching;

    /** Time per scheduled row and per new token, beside the time per step. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class PerUnit {
        /** Rows scheduled (one per running request per step). */
        public long rows;
        /** New tokens planned (prefill chunks and decode tokens). */
        public long tokens;

        /** Counts from zero in each iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            rows = 0;
            tokens = 0;
        }
    }

    private PagedKvCache cache;
    private StepPlanner planner;
    private int[][] ids;
    private int[] promptOf;
    private int[] totalOf;
    private int next;
    private final StepSequence[] running = new StepSequence[BATCH];
    private final int[] request = new int[BATCH];

    /** The trace, its token ids, the cache and the first {@value #BATCH} admitted requests. */
    @Setup(Level.Trial)
    public void setUp() {
        Trace trace = Workload.SHAREGPT.generate(TRACE, 1);
        SplittableRandom rnd = new SplittableRandom(1);
        ids = new int[TRACE][];
        promptOf = new int[TRACE];
        totalOf = new int[TRACE];
        for (int i = 0; i < TRACE; i++) {
            TraceRequest r = trace.requests().get(i);
            promptOf[i] = r.promptTokens();
            totalOf[i] = r.promptTokens() + r.outputTokens();
            ids[i] = rnd.ints(totalOf[i] + 1, 0, 32_000).toArray();
        }
        // room for BATCH whole contexts: nothing is ever preempted
        int blocks = (int) LAYOUT.blocksFor(trace.maxContext() + 1L) * BATCH;
        cache = new PagedKvCache(LAYOUT, blocks);
        cache.setPrefixCaching(prefixCaching);
        planner = new StepPlanner(cache, 0);
        for (int b = 0; b < BATCH; b++) {
            admit(b);
        }
    }

    private void admit(int slot) {
        int r = next;
        next = (next + 1) % TRACE;
        StepSequence s = planner.admit(ids[r], promptOf[r], PrefixKeys.NONE);
        if (s == null) {
            throw new IllegalStateException("request " + r + " does not fit (the pool is sized for it)");
        }
        running[slot] = s;
        request[slot] = r;
    }

    /** Frees the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
    }

    /** One step: schedule every running request, plan, mark written, complete, retire and admit. */
    @Benchmark
    public int step(PerUnit counters) {
        for (int b = 0; b < BATCH; b++) {
            StepSequence s = running[b];
            int r = request[b];
            int len = s.length();
            int n = len < promptOf[r] ? Math.min(CHUNK, promptOf[r] - len) : 1;
            if (!planner.schedule(s, ids[r], len, n)) {
                throw new IllegalStateException("pool short for request " + r);
            }
        }
        StepPlan plan = planner.plan();
        int rows = plan.rows();
        for (int row = 0; row < rows; row++) {
            plan.markWritten(row, plan.queryLength(row));
        }
        int tokens = plan.tokens();
        planner.complete(plan);
        for (int b = 0; b < BATCH; b++) {
            if (running[b].length() >= totalOf[request[b]]) {
                planner.release(running[b]);
                admit(b);
            }
        }
        counters.rows += rows;
        counters.tokens += tokens;
        return tokens;
    }
}
