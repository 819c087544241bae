package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.workload.Trace;
import io.pagedkv.tier.PrefixTierStats;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One trace replayed under every allocation strategy with the same budget: paged first, then the
 * contiguous max-context and prompt+max-output baselines, then, for a model with sliding-window
 * layers, the hybrid layout (layer groups whose sliding groups free blocks outside the window) against
 * which {@code paged} is the all-global layout in the same memory. Immutable once built.
 *
 * @param config what was simulated
 * @param trace the replayed trace
 * @param pagedBlocks blocks in the paged pool
 * @param pagedScale full-scale bytes per byte the paged pool physically stores
 * @param pagedStorageHeadDim head dim of the paged pool's scaled storage shape
 * @param pagedTokensWritten tokens whose K/V the paged run encoded and wrote (re-prefills included)
 * @param results one result per strategy: paged first (then paged over the host tier, if any), then the
 *     contiguous baselines, then {@code paged-hybrid} when it ran
 * @param groups the model's layer groups when the hybrid layout ran (the model has sliding layers and
 *     no eviction policy is set), else null
 * @param hybridBlocks blocks in the hybrid pool (0 when it did not run)
 * @param hybridBlockBytes full-scale bytes of one group's block (0 when it did not run)
 * @param hostTierBytes the host tier's full-scale bytes (0: none)
 * @param hostTierBlocks blocks the host tier holds
 * @param hostTier the host tier's counters after the run, or null without one
 * @param prefillTokensPerStep prompt tokens computed per step (0: prefill is free)
 */
public record SimulationComparison(SimulationConfig config, Trace trace, long pagedBlocks, double pagedScale,
        int pagedStorageHeadDim, long pagedTokensWritten, List<SimulationResult> results, LayerGroups groups,
        long hybridBlocks, long hybridBlockBytes, long hostTierBytes, long hostTierBlocks, PrefixTierStats hostTier,
        int prefillTokensPerStep) {

    /** Name of the hybrid layout's result. */
    public static final String HYBRID = "paged-hybrid";

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
        LayerGroups groups = hybridGroups(config);
        long hybridBlocks = 0;
        long hybridBlockBytes = 0;
        if (groups != null) {
            try (HybridPagedStrategy hybrid = new HybridPagedStrategy(layout, groups, config.memoryBytes())) {
                results.add(new ServingSimulator(trace, hybrid, progress.apply(hybrid.name()), cap, prefillTokensPerStep)
                        .run());
                hybridBlocks = hybrid.totalBlocks();
                hybridBlockBytes = hybrid.groupBlockBytes();
            }
        }
        return new SimulationComparison(config, trace, blocks, scale, headDim, written, results, groups, hybridBlocks,
                hybridBlockBytes, hostTierBytes, tierBlocks, tierStats, prefillTokensPerStep);
    }

    /**
     * The layer groups the hybrid layout runs with: those of a model with sliding layers when no
     * eviction policy is set (a policy already bounds every layer); null otherwise.
     */
    static LayerGroups hybridGroups(SimulationConfig config) {
        if (config.model().pattern() == AttentionPattern.GLOBAL || config.policy() != EvictionChoice.NONE) {
            return null;
        }
        return LayerGroups.of(config.model());
    }

    /** Whether the hybrid layout ran. */
    public boolean hasHybrid() {
        return groups != null;
    }

    /** The result of the strategy named {@code name}. */
    public SimulationResult result(String name) {
        for (SimulationResult r : results) {
            if (r.strategy().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("strategy: '" + name + "' (expected: paged"
                + (hostTierBytes > 0 ? ", paged+host" : "") + ", contiguous-max, first-fit"
                + (hasHybrid() ? " or " + HYBRID : "") + ")");
    }
}
