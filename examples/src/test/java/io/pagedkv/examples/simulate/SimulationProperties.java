package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import io.pagedkv.workload.Trace;
import io.pagedkv.workload.Workload;
import org.junit.jupiter.api.Test;

/** Simulator outcomes for random small traces, budgets and block sizes. */
class SimulationProperties {

    @Test
    void everyRequestFinishesAndPagedNeverHoldsMoreThanItsBlocksUnderAnyBudget() {
        CacheLayout base = CacheLayout.of(ModelPresets.byName("llama-3.1-8b"), KvDType.Q8_0);
        Property.forAll(Gens.zip(Gens.oneOf(Workload.SHAREGPT, Workload.ALPACA), Gens.ints(1, 40), Gens.oneOf(8, 16, 32),
                        Scenario::new),
                Gens.ints(1, 6))
                .tries(15)
                .check((sc, contexts) -> {
                    Trace trace = sc.workload().generate(sc.requests(), sc.requests() * 31L + contexts);
                    long budget = (long) contexts * trace.maxContext() * base.bytesPerToken();
                    CacheLayout layout = new CacheLayout(base.shape(), base.dtype(), sc.blockSize());
                    KvAllocationStrategy[] all = {new PagedStrategy(layout, budget),
                        ContiguousStrategy.maxContext(budget, base.bytesPerToken(), trace.maxContext()),
                        ContiguousStrategy.promptPlusMaxOutput(budget, base.bytesPerToken())};
                    int[] peaks = new int[3];
                    for (int i = 0; i < all.length; i++) {
                        try (KvAllocationStrategy s = all[i]) {
                            SimulationResult r = new ServingSimulator(trace, s, ServingSimulator.Progress.NONE).run();
                            assertEquals(sc.requests(), r.finished(), s.name());
                            assertEquals(0, s.reservedBytes(), s.name() + " drained");
                            assertTrue(r.meanLiveBytes() <= r.meanReservedBytes() + 1e-6, s.name() + " live <= held");
                            assertTrue(r.waste() >= 0 && r.waste() < 1, s.name() + " waste " + r.waste());
                            peaks[i] = r.peakConcurrency();
                            if (i == 0) {
                                // Paging wastes at most blockSize - 1 slots per running request.
                                assertTrue(r.meanInternalBytes() <= r.meanConcurrency() * (sc.blockSize() - 1)
                                        * base.bytesPerToken() + 1e-6, "paged internal " + r.meanInternalBytes());
                            }
                        }
                    }
                    assertTrue(peaks[2] >= Math.min(contexts, sc.requests()), "first-fit admits at least a max-context's worth");
                    assertEquals(Math.min(contexts, sc.requests()), peaks[1], "contiguous-max runs exactly budget/context requests");
                });
    }

    private record Scenario(Workload workload, int requests, int blockSize) { }
}
