package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.workload.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One trace replayed under every allocation strategy with the same budget: paged first, then the
 * contiguous max-context and prompt+max-output baselines. Immutable once built.
 *
 * @param config what was simulated
 * @param trace the replayed trace
 * @param pagedBlocks blocks in the paged pool
 * @param pagedScale full-scale bytes per byte the paged pool physically stores
 * @param pagedStorageHeadDim head dim of the paged pool's scaled storage shape
 * @param pagedTokensWritten tokens whose K/V the paged run encoded and wrote (re-prefills included)
 * @param results one result per strategy, paged first
 */
public record SimulationComparison(SimulationConfig config, Trace trace, long pagedBlocks, double pagedScale,
        int pagedStorageHeadDim, long pagedTokensWritten, List<SimulationResult> results) {

    /** Copies the list. */
    public SimulationComparison {
        results = List.copyOf(results);
    }

    /** Generates the trace and runs all strategies; {@code progress} gives a listener per strategy name. */
    public static SimulationComparison run(SimulationConfig config, Function<String, ServingSimulator.Progress> progress) {
        Trace trace = config.workload().generate(config.requests(), config.seed());
        CacheLayout layout = config.layout();
        List<SimulationResult> results = new ArrayList<>();
        long blocks;
        double scale;
        long written;
        int headDim;
        try (PagedStrategy paged = new PagedStrategy(layout, config.memoryBytes(), config.policy(), config.kvBudget())) {
            results.add(new ServingSimulator(trace, paged, progress.apply(paged.name())).run());
            blocks = paged.totalBlocks();
            scale = paged.scale();
            written = paged.tokensWritten();
            headDim = paged.storageLayout().shape().headDim();
        }
        try (ContiguousStrategy max = ContiguousStrategy.maxContext(config.memoryBytes(), layout.bytesPerToken(),
                config.maxContext())) {
            results.add(new ServingSimulator(trace, max, progress.apply(max.name())).run());
        }
        try (ContiguousStrategy firstFit = ContiguousStrategy.promptPlusMaxOutput(config.memoryBytes(), layout.bytesPerToken())) {
            results.add(new ServingSimulator(trace, firstFit, progress.apply(firstFit.name())).run());
        }
        return new SimulationComparison(config, trace, blocks, scale, headDim, written, results);
    }

    /** The result of the strategy named {@code name}. */
    public SimulationResult result(String name) {
        for (SimulationResult r : results) {
            if (r.strategy().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("strategy: '" + name + "' (expected: paged, contiguous-max or first-fit)");
    }
}
