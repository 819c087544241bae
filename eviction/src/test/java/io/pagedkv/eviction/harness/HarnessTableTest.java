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

    @Test
    void printsAll() {
        for (TraceKind k : TraceKind.values()) {
            assertEquals(7, table(k).size());
        }
    }
}
