package io.pagedkv.benchmarks.fragmentation;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.plan.ByteSize;
import io.pagedkv.examples.simulate.ContiguousStrategy;
import io.pagedkv.examples.simulate.KvAllocationStrategy;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.examples.simulate.PagedStrategy;
import io.pagedkv.examples.simulate.ServingSimulator;
import io.pagedkv.examples.simulate.SimulationResult;
import io.pagedkv.model.ModelShape;
import io.pagedkv.workload.Trace;
import io.pagedkv.workload.Workload;
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
 * Replays a request trace into a fixed KV budget with continuous batching and counts where the memory
 * went, under three allocators:
 * <ul>
 *   <li>{@code contiguous-max}: a contiguous region of the whole context per request;
 *   <li>{@code first-fit}: a contiguous region of prompt + declared max output, first fit (Orca-style);
 *   <li>{@code paged-8}, {@code paged-16}, {@code paged-32}: pagedkv blocks of 8, 16 or 32 tokens on the
 *       real {@code PagedKvCache} (with its prefix caching, which the agent trace's shared prompts use).
 * </ul>
 *
 * <p>The budget is {@link #memory} of llama-3.1-8b KV cache in q8_0 (69,632 bytes per token). One
 * invocation replays the whole trace; the time score is the replay's cost, the point is the counts in
 * {@link FragmentationCounters}. Run through {@link FragmentationResults} for the ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 2, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Djava.awt.headless=true"})
public class FragmentationBenchmark {

    /** The model whose KV cache is replayed. */
    public static final String MODEL = "llama-3.1-8b";
    /** The KV storage type. */
    public static final KvDType DTYPE = KvDType.Q8_0;

    /** The trace's workload. */
    @Param({"sharegpt", "alpaca", "agent"})
    public String workload;

    /** The allocator under test. */
    @Param({"contiguous-max", "first-fit", "paged-8", "paged-16", "paged-32"})
    public String allocator;

    /** Requests per trace. */
    @Param({"1000"})
    public int requests;

    /** The KV memory budget. */
    @Param({"4GiB"})
    public String memory;

    /** The trace's seed. */
    @Param({"1"})
    public long seed;

    private Trace trace;
    private long budget;

    /** Generates the trace once per trial. */
    @Setup(Level.Trial)
    public void generate() {
        trace = Workload.parse(workload).generate(requests, seed);
        budget = ByteSize.parse(memory).bytes();
    }

    /** Replays the trace once and adds its counts. */
    @Benchmark
    public long replay(FragmentationCounters counters) {
        try (KvAllocationStrategy strategy = strategy(allocator, budget, trace.maxContext())) {
            SimulationResult r = new ServingSimulator(trace, strategy, ServingSimulator.Progress.NONE).run();
            counters.replays++;
            counters.steps += r.steps();
            counters.finishedRequests += r.finished();
            counters.liveTokenByteSteps += Math.round(r.meanLiveBytes() * r.steps());
            counters.reservedByteSteps += Math.round(r.meanReservedBytes() * r.steps());
            counters.internalFragmentationByteSteps += Math.round(r.meanInternalBytes() * r.steps());
            counters.externalFragmentationByteSteps += Math.round(r.meanExternalBytes() * r.steps());
            counters.peakConcurrency += r.peakConcurrency();
            counters.concurrencySteps += Math.round(r.meanConcurrency() * r.steps());
            counters.rejectedAdmissions += r.refusals();
            counters.queuedRequestSteps += r.queuedRequestSteps();
            counters.preemptions += r.preemptions();
            return r.steps();
        }
    }

    /** The strategy named {@code allocator} over {@code budget} bytes of llama-3.1-8b q8_0 cache. */
    public static KvAllocationStrategy strategy(String allocator, long budget, int maxContext) {
        ModelShape shape = ModelPresets.byName(MODEL);
        long perToken = CacheLayout.of(shape, DTYPE).bytesPerToken();
        return switch (allocator) {
            case "contiguous-max" -> ContiguousStrategy.maxContext(budget, perToken, maxContext);
            case "first-fit" -> ContiguousStrategy.promptPlusMaxOutput(budget, perToken);
            case "paged-8" -> new PagedStrategy(new CacheLayout(shape, DTYPE, 8), budget);
            case "paged-16" -> new PagedStrategy(new CacheLayout(shape, DTYPE, 16), budget);
            case "paged-32" -> new PagedStrategy(new CacheLayout(shape, DTYPE, 32), budget);
            default -> throw new IllegalArgumentException("allocator: '" + allocator
                    + "' (expected one of contiguous-max, first-fit, paged-8, paged-16, paged-32)");
        };
    }
}
