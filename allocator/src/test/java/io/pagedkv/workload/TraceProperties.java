package io.pagedkv.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Trace invariants for any workload, size and seed. */
class TraceProperties {

    @Test
    void everyTraceHasTheRequestedSizeFitsItsContextAndReproducesFromItsSeed() {
        Property.forAll(Gens.zip(Gens.oneOf(Workload.values()), Gens.ints(0, 300), Pair::new), Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE))
                .tries(60)
                .check((wn, seed) -> {
                    Trace a = wn.workload().generate(wn.n(), seed);
                    Trace b = wn.workload().generate(wn.n(), seed);
                    assertEquals(wn.n(), a.size());
                    for (int i = 0; i < a.size(); i++) {
                        TraceRequest r = a.requests().get(i);
                        TraceRequest s = b.requests().get(i);
                        assertEquals(i, r.id());
                        assertTrue(r.reservedTokens() <= a.maxContext(), r + " exceeds " + a.maxContext());
                        assertEquals(List.of(r.session(), r.turn(), r.promptTokens(), r.outputTokens(), r.sharedPrefixTokens()),
                                List.of(s.session(), s.turn(), s.promptTokens(), s.outputTokens(), s.sharedPrefixTokens()));
                    }
                });
    }

    @Test
    void agentSharedPrefixNeverExceedsThePromptAndLaterTurnsExtendTheirSession() {
        Property.forAll(Gens.ints(1, 200), Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE))
                .tries(40)
                .check((n, seed) -> {
                    Trace t = Workload.AGENT.generate(n, seed);
                    int[] lastTotal = new int[n + 1];
                    for (TraceRequest r : t.requests()) {
                        assertTrue(r.sharedPrefixTokens() <= r.promptTokens());
                        if (r.turn() > 0) {
                            assertEquals(lastTotal[r.session()], r.sharedPrefixTokens(), r.toString());
                        }
                        lastTotal[r.session()] = r.totalTokens();
                    }
                    double share = t.sharedPrefixShare();
                    assertTrue(share >= 0 && share < 1, "share " + share);
                });
    }

    private record Pair(Workload workload, int n) { }
}
