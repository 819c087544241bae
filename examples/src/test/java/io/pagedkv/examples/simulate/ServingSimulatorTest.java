package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.workload.Workload;
import org.junit.jupiter.api.Test;

/**
 * Small end-to-end simulations: 300 ShareGPT requests into 1 GiB of llama-3.1-8b q8_0 cache (about
 * 15,000 tokens, so memory is the bottleneck for every strategy).
 */
class ServingSimulatorTest {

    private static final long GIB = 1L << 30;

    private static SimulationConfig config(Workload w, int requests, long memory) {
        return new SimulationConfig(ModelPresets.byName("llama-3.1-8b"), KvDType.Q8_0, memory, w, requests, 16, 7,
                w.defaultMaxContext(), EvictionChoice.NONE, 0);
    }

    @Test
    void everyRequestFinishesAndEveryStrategyIsDrainedAtTheEnd() {
        SimulationConfig cfg = config(Workload.SHAREGPT, 300, GIB);
        var trace = cfg.workload().generate(300, 7);
        int longestOutput = trace.requests().stream().mapToInt(t -> t.outputTokens()).max().orElseThrow();
        KvAllocationStrategy[] strategies = {new PagedStrategy(cfg.layout(), GIB),
            ContiguousStrategy.maxContext(GIB, cfg.layout().bytesPerToken(), cfg.maxContext()),
            ContiguousStrategy.promptPlusMaxOutput(GIB, cfg.layout().bytesPerToken())};
        for (KvAllocationStrategy s : strategies) {
            SimulationResult r = new ServingSimulator(trace, s, ServingSimulator.Progress.NONE).run();
            assertEquals(300, r.finished(), s.name());
            // Conservation at the end: nothing held, every block free (paged), one hole spanning the arena.
            assertEquals(0, s.reservedBytes(), s.name());
            s.checkDrained();
            assertTrue(r.steps() >= longestOutput, "no request decodes faster than one token per step");
            s.close();
        }
    }

    @Test
    void pagedAdmitsMoreConcurrentRequestsThanContiguousOnShareGpt() {
        SimulationComparison c = SimulationComparison.run(config(Workload.SHAREGPT, 300, GIB), n -> ServingSimulator.Progress.NONE);
        SimulationResult paged = c.result("paged");
        SimulationResult max = c.result("contiguous-max");
        SimulationResult firstFit = c.result("first-fit");
        assertTrue(paged.peakConcurrency() > firstFit.peakConcurrency(), paged + " vs " + firstFit);
        assertTrue(firstFit.peakConcurrency() > max.peakConcurrency(), firstFit + " vs " + max);
        assertTrue(paged.meanConcurrency() > 2 * max.meanConcurrency(), paged.meanConcurrency() + " vs " + max.meanConcurrency());
        assertTrue(paged.steps() < max.steps());
    }

    @Test
    void pagedWastesUnderFourPercentWhileContiguousWastesMoreThanHalf() {
        SimulationComparison c = SimulationComparison.run(config(Workload.SHAREGPT, 300, GIB), n -> ServingSimulator.Progress.NONE);
        assertTrue(c.result("paged").waste() < 0.04, "paged waste " + c.result("paged").waste());
        assertTrue(c.result("contiguous-max").waste() > 0.5, "max waste " + c.result("contiguous-max").waste());
        assertTrue(c.result("first-fit").waste() > 0.4, "first-fit waste " + c.result("first-fit").waste());
        // Contiguous strategies reserve ahead, so they never run dry mid-decode.
        assertEquals(0, c.result("contiguous-max").preemptions());
        assertEquals(0, c.result("first-fit").preemptions());
    }

    @Test
    void agentSessionsRunTheirTurnsInOrderToCompletion() {
        SimulationComparison c = SimulationComparison.run(config(Workload.AGENT, 120, 2 * GIB), n -> ServingSimulator.Progress.NONE);
        for (SimulationResult r : c.results()) {
            assertEquals(120, r.finished(), r.strategy());
            assertTrue(r.promptTokens() >= c.trace().totalPromptTokens(), r.strategy());
        }
    }

    @Test
    void aPoolThatRunsDryPreemptsTheYoungestAndStillFinishesEverything() {
        // 2 GiB / 68 KiB per token: about 30,800 tokens; 400 ShareGPT requests want far more at once.
        SimulationResult paged = SimulationComparison.run(config(Workload.SHAREGPT, 400, 2 * GIB),
                n -> ServingSimulator.Progress.NONE).result("paged");
        assertTrue(paged.preemptions() > 0, "expected the pool to run dry");
        assertEquals(400, paged.finished());
        assertTrue(paged.promptTokens() > 0);
    }

    @Test
    void aRequestLargerThanTheWholePoolIsReportedNotLoopedOn() {
        SimulationConfig cfg = config(Workload.SHAREGPT, 10, GIB);
        var trace = cfg.workload().generate(10, 7);
        try (PagedStrategy tiny = new PagedStrategy(cfg.layout(), cfg.layout().bytesPerBlock() * 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ServingSimulator(trace, tiny, ServingSimulator.Progress.NONE).run());
            assertTrue(e.getMessage().contains("bytes of KV memory under paged"), e.getMessage());
        }
    }

    @Test
    void aWindowPolicyEvictsExactlyWhatExceedsItsBudgetAndKeepsEachRequestWithinItsBudget() {
        // 16 GiB is ample for 200 ShareGPT requests of <= 256 slots: no preemption, so no recomputation.
        SimulationConfig cfg = new SimulationConfig(ModelPresets.byName("llama-3.1-8b"), KvDType.Q8_0, 16 * GIB,
                Workload.SHAREGPT, 200, 16, 7, 2048, EvictionChoice.WINDOW, 256);
        var trace = cfg.workload().generate(200, 7);
        try (PagedStrategy paged = new PagedStrategy(cfg.layout(), cfg.memoryBytes(), EvictionChoice.WINDOW, 256)) {
            SimulationResult r = new ServingSimulator(trace, paged, ServingSimulator.Progress.NONE).run();
            assertEquals(0, r.preemptions());
            long expected = 0;
            for (var t : trace.requests()) {
                expected += Math.max(0, t.totalTokens() - 256);
            }
            assertTrue(expected > 0);
            assertEquals(expected, r.tokensEvicted());
            // evict first, then place: 256 slots = 16 blocks of 16 at most per request.
            assertTrue(r.series().reservedBytes(0) <= (long) r.series().running(0) * 16 * cfg.layout().bytesPerBlock());
            paged.checkDrained();
        }
    }

    @Test
    void everyPolicyFinishesEveryRequestAndHoldsLessThanKeepingEverything() {
        SimulationResult none = SimulationComparison.run(config(Workload.SHAREGPT, 200, GIB), n -> ServingSimulator.Progress.NONE)
                .result("paged");
        for (EvictionChoice p : new EvictionChoice[] {EvictionChoice.WINDOW, EvictionChoice.SINKS, EvictionChoice.H2O}) {
            SimulationConfig cfg = new SimulationConfig(ModelPresets.byName("llama-3.1-8b"), KvDType.Q8_0, GIB,
                    Workload.SHAREGPT, 200, 16, 7, 2048, p, 128);
            SimulationComparison c = SimulationComparison.run(cfg, n -> ServingSimulator.Progress.NONE);
            SimulationResult paged = c.result("paged");
            assertEquals(200, paged.finished(), p.label());
            assertTrue(paged.tokensEvicted() > 0, p.label());
            assertTrue(paged.steps() < none.steps(), p + " " + paged.steps() + " vs " + none.steps());
            assertEquals(0, c.result("contiguous-max").tokensEvicted(), "baselines keep every token");
        }
    }

    /**
     * Agent turns re-send the shared system prompt and their session's history; with prefix caching
     * the paged run prefills only the rest. Tolerance: the hit rate may fall short of the trace's
     * shared-prefix share only by block rounding (under 16 tokens per request, each prompt being
     * thousands of tokens) and by the one token a prompt always recomputes: 2 percentage points.
     * Memory is ample, so no cached block is reclaimed and nothing is preempted.
     */
    @Test
    void agentPrefixHitRateIsPositiveAndEqualsTheSharedPrefixShareWithinTwoPoints() {
        SimulationConfig cfg = config(Workload.AGENT, 150, 16 * GIB);
        SimulationComparison c = SimulationComparison.run(cfg, n -> ServingSimulator.Progress.NONE);
        SimulationResult paged = c.result("paged");
        double share = c.trace().sharedPrefixShare();
        assertEquals(0, paged.preemptions());
        assertTrue(paged.prefixHitRate() > 0);
        assertTrue(Math.abs(paged.prefixHitRate() - share) <= 0.02,
                "hit rate " + paged.prefixHitRate() + " vs shared-prefix share " + share);
        assertTrue(paged.prefixHitRate() <= share + 1e-9, "never more than what repeats");
        assertEquals(0.0, c.result("first-fit").prefixHitRate(), "contiguous baselines have no prefix cache");
        // Shared blocks count once, so live tokens never exceed the blocks held.
        assertTrue(paged.meanLiveBytes() <= paged.meanReservedBytes() + 1e-6);
    }

    @Test
    void cachedPrefixBlocksCountAsFreeForConservationAtTheEnd() {
        SimulationConfig cfg = config(Workload.AGENT, 60, 4 * GIB);
        var trace = cfg.workload().generate(60, 7);
        try (PagedStrategy paged = new PagedStrategy(cfg.layout(), cfg.memoryBytes())) {
            SimulationResult r = new ServingSimulator(trace, paged, ServingSimulator.Progress.NONE).run();
            assertEquals(60, r.finished());
            var st = paged.stats();
            assertTrue(st.cachedBlocks() > 0, "finished sessions leave their prefixes cached");
            assertEquals(paged.totalBlocks(), st.freeBlocks() + st.cachedBlocks());
            assertEquals(0, st.usedBlocks());
            assertEquals(0, paged.reservedBytes());
            paged.checkDrained();
        }
    }
}
