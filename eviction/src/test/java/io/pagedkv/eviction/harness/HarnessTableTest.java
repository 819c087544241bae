package io.pagedkv.eviction.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class HarnessTableTest {

    static final int PROMPT = 1024;
    static final int DECODE = 256;
    static final int BUDGET = PROMPT / 5;
    static final Map<TraceKind, List<PolicyResult>> CACHE = new ConcurrentHashMap<>();

    static List<PolicyResult> table(TraceKind kind) {
        return CACHE.computeIfAbsent(kind, k -> {
            SyntheticTrace trace = new SyntheticTrace(new TraceSpec(k, PROMPT, DECODE, 4, 16, 42));
            List<PolicyResult> r = Harness.run(trace, Harness.standardPolicies(BUDGET), Harness.perHeadReference(BUDGET),
                    1024, 16);
            System.out.print(ResultTable.text(k.label(), r));
            return r;
        });
    }

    static PolicyResult find(List<PolicyResult> results, String prefix) {
        return results.stream().filter(r -> r.policy().startsWith(prefix)).findFirst().orElseThrow();
    }

    /**
     * The mean over decode steps of kept / length: what any policy gets when attention is uniform
     * (the cache holds exactly the budget at every step: evict first, then place).
     */
    static double budgetOverLength() {
        double sum = 0;
        for (int t = PROMPT; t < PROMPT + DECODE; t++) {
            sum += BUDGET / (t + 1.0);
        }
        return sum / DECODE;
    }

    @Test
    void onTheUniformTraceEveryPolicysRecallIsWithinOnePointOfBudgetOverLength() {
        double expected = budgetOverLength();
        for (PolicyResult r : table(TraceKind.UNIFORM)) {
            assertEquals(expected, r.recall(), 0.01, r.policy());
        }
    }

    @Test
    void onThePowerLawTraceAtTwentyPercentH2oBeatsTheWindowAndSinksBeatTheWindow() {
        List<PolicyResult> t = table(TraceKind.POWER_LAW);
        double window = find(t, "window").recall();
        assertTrue(find(t, "h2o(").recall() > window + 0.1, "h2o " + find(t, "h2o(").recall() + " vs window " + window);
        assertTrue(find(t, "sinks").recall() > window + 0.1, "sinks " + find(t, "sinks").recall() + " vs window " + window);
    }

    @Test
    void onTheNeedleTraceEveryAttentionOrPositionPolicyMissesTheNeedleAtEveryStepWhereItMatters() {
        for (PolicyResult r : table(TraceKind.NEEDLE)) {
            assertEquals(3 * 4, r.needleChecks(), r.policy());
            if (r.policy().startsWith("window") || r.policy().startsWith("sinks") || r.policy().startsWith("h2o")
                    || r.policy().startsWith("tova")) {
                assertEquals(0, r.needleHits(), r.policy() + " kept the needle");
            }
        }
    }

    @Test
    void onEveryTraceRecallNeverExceedsTheOracleAndSharedPoliciesKeepExactlyTheBudget() {
        for (TraceKind k : TraceKind.values()) {
            for (PolicyResult r : table(k)) {
                assertTrue(r.recall() <= r.oracle() + 1e-6, k + " " + r.policy() + " recall above the top-B oracle");
                if (!r.policy().endsWith(Harness.PER_HEAD_SUFFIX)) {
                    assertEquals(BUDGET, r.tokensKept(), k + " " + r.policy());
                    assertEquals(BUDGET * 1024L, r.bytesKept(), k + " " + r.policy());
                    assertEquals(PROMPT / 16 - (BUDGET + 15) / 16, r.blocksFreed(), k + " " + r.policy());
                } else {
                    assertTrue(r.tokensKept() >= BUDGET, "the union over heads holds at least one head's budget");
                    assertEquals(0, r.blocksFreed(), "mask-only frees nothing");
                }
            }
        }
    }

    @Test
    void theSinksTraceRewardsKeepingTheFirstTokens() {
        List<PolicyResult> t = table(TraceKind.SINKS);
        assertTrue(find(t, "sinks").recall() > find(t, "window").recall() + 0.2);
    }

    @Test
    void theSameSeedGivesTheSameTable() {
        SyntheticTrace trace = new SyntheticTrace(new TraceSpec(TraceKind.POWER_LAW, 64, 16, 2, 8, 9));
        List<PolicyResult> a = Harness.run(trace, Harness.standardPolicies(16), Harness.perHeadReference(16), 10, 4);
        List<PolicyResult> b = Harness.run(trace, Harness.standardPolicies(16), Harness.perHeadReference(16), 10, 4);
        assertEquals(a, b);
    }
}
