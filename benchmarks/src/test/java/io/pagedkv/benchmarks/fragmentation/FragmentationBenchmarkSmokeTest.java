package io.pagedkv.benchmarks.fragmentation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;

/**
 * The short mode's smallest case run in-process through JMH (forks 0, one iteration), so a broken
 * benchmark fails the build: Alpaca, 200 requests, paged with 16-token blocks.
 */
class FragmentationBenchmarkSmokeTest {

    static {
        // The smoke checks counts, not time: it need not wait for another engineer's JMH run on this machine.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void smallestCaseRunsThroughJmhAndPagedWastesOnlyBlockTails() throws Exception {
        Collection<RunResult> results = new Runner(FragmentationResults.options(true, 200, 0)
                .param("workload", "alpaca")
                .param("allocator", "paged-16")
                .build()).run();
        assertEquals(1, results.size());
        var c = results.iterator().next().getAggregatedResult().getSecondaryResults();
        double replays = c.get("replays").getScore();
        assertTrue(replays >= 1, "replays " + replays);
        assertEquals(200 * replays, c.get("finishedRequests").getScore(), "every request finished in every replay");
        double live = c.get("liveTokenByteSteps").getScore();
        double reserved = c.get("reservedByteSteps").getScore();
        assertTrue(live > 0 && reserved >= live, "live " + live + " reserved " + reserved);
        // Paging wastes at most the unfilled tail of each running request's last block: < 16 tokens each.
        double internal = c.get("internalFragmentationByteSteps").getScore();
        double maxTail = c.get("concurrencySteps").getScore() * 15 * 69_632.0;
        assertTrue(internal > 0 && internal <= maxTail, "internal " + internal + " (expected: in (0, " + maxTail + "])");
        assertEquals(reserved - live, internal, reserved * 1e-9);
        assertEquals(0.0, c.get("externalFragmentationByteSteps").getScore());
        String md = FragmentationResults.markdown(results, true, 200);
        assertTrue(md.contains("| paged-16 |"), md);
        assertFalse(md.contains("NaN"), md);
    }
}
