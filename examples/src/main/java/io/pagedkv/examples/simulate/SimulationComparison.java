package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.workload.Trace;
import io.pagedkv.tier.PrefixTierStats;
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
 * @param results one result per strategy, paged first (then paged over the host tier, if any)
 * @param hostTierBytes the host tier's full-scale bytes (0: none)
 * @param hostTierBlocks blocks the host tier holds
 * @param hostTier the host tier's counters after the run, or null without one
 * @param prefillTokensPerStep prompt tokens computed per step (0: prefill is free)
 */
public record SimulationComparison(SimulationConfig config, Trace trace, long pagedBlocks, double pagedScale,
        int pagedStorageHeadDim, long pagedTokensWritten, List<SimulationResult> results, long hostTierBytes,
        long hostTierBlocks, PrefixTierStats hostTier, int prefillTokensPerStep) {

    /** Copies the list. */
    public SimulationComparison {
        results = List.copyOf(results);
    }

    /** Generates the trace and runs all strategies; {@code progress} gives a listener per strategy name. */
    public static SimulationComparison run(SimulationConfig config, Function<String, ServingSimulator.Progress> progress) {
        return run(config, 0, 0, progress);
    }

    /**
     * As {@link #run(SimulationConfig, Function)}; with {@code hostTierBytes > 0} paged runs twice, the
     * second time over a host-memory tier of that many full-scale bytes, in the same run; with
     * {@code prefillTokensPerStep > 0} every strategy computes at most that many prompt tokens a step
     * (see {@link ServingSimulator}).
     */
    public static SimulationComparison run(SimulationConfig config, long hostTierBytes, int prefillTokensPerStep,
            Function<String, ServingSimulator.Progress> progress) {
        int cap = ServingSimulator.DEFAULT_MAX_RUNNING;
        Trace trace = config.workload().generate(config.requests(), config.seed());
        CacheLayout layout = config.layout();
        List<SimulationResult> results = new ArrayList<>();
        long blocks;
        double scale;
        long written;
        int headDim;
        try (PagedStrategy paged = new PagedStrategy(layout, config.memoryBytes(), config.policy(), config.kvBudget())) {
            results.add(new ServingSimulator(trace, paged, progress.apply(paged.name()), cap, prefillTokensPerStep).run());
            blocks = paged.totalBlocks();
            scale = paged.scale();
            written = paged.tokensWritten();
            headDim = paged.storageLayout().shape().headDim();
        }
        long tierBlocks = 0;
        PrefixTierStats tierStats = null;
        if (hostTierBytes > 0) {
            try (PagedStrategy tiered = new PagedStrategy(layout, config.memoryBytes(), config.policy(), config.kvBudget(),
                    hostTierBytes)) {
                results.add(new ServingSimulator(trace, tiered, progress.apply(tiered.name()), cap, prefillTokensPerStep).run());
                tierBlocks = tiered.hostTierBlocks();
                tierStats = tiered.tierStats();
            }
        }
        try (ContiguousStrategy max = ContiguousStrategy.maxContext(config.memoryBytes(), layout.bytesPerToken(),
                config.maxContext())) {
            results.add(new ServingSimulator(trace, max, progress.apply(max.name()), cap, prefillTokensPerStep).run());
        }
        try (ContiguousStrategy firstFit = ContiguousStrategy.promptPlusMaxOutput(config.memoryBytes(), layout.bytesPerToken())) {
            results.add(new ServingSimulator(trace, firstFit, progress.apply(firstFit.name()), cap, prefillTokensPerStep).run());
        }
        return new SimulationComparison(config, trace, blocks, scale, headDim, written, results, hostTierBytes, tierBlocks,
                tierStats, prefillTokensPerStep);
    }

    /** The result of the strategy named {@code name}. */
    public SimulationResult result(String name) {
        for (SimulationResult r : results) {
            if (r.strategy().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("strategy: '" + name + "' (expected: paged, paged+host, contiguous-max or first-fit)");
    }
}
