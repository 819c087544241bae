package io.pagedkv.benchmarks.throughput;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The short mode's smallest case of every throughput benchmark run in-process through JMH (forks 0,
 * one short iteration), so a broken benchmark or baseline fails the build: 4 KiB blocks on one and two
 * threads, one F16 token. Checks that each ran and scored, not how fast.
 */
class ThroughputBenchmarkSmokeTest {

    static {
        // The smoke checks that the benchmarks run, not their speed: no need to wait for another JMH run.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void everyThroughputBenchmarkRunsItsSmallestCaseAndScores() throws Exception {
        Collection<RunResult> results = new Runner(ThroughputResults.options(true, 0)
                .warmupIterations(0).measurementTime(TimeValue.milliseconds(50))
                .build()).run();
        Set<String> ran = new HashSet<>();
        for (RunResult r : results) {
            String b = r.getParams().getBenchmark();
            ran.add(b.substring(b.lastIndexOf('.', b.lastIndexOf('.') - 1) + 1) + "/" + r.getParams().getThreads());
            double score = r.getPrimaryResult().getScore();
            assertTrue(score > 0 && Double.isFinite(score), b + " score " + score);
        }
        assertEquals(Set.of(
                "AllocateFreeSingleThreadBenchmark.blockPoolThreadCaches/1",
                "AllocateFreeSingleThreadBenchmark.blockPoolLocked/1",
                "AllocateFreeSingleThreadBenchmark.blockPoolOwnerPerThread/1",
                "AllocateFreeSingleThreadBenchmark.nettyPooledDirect/1",
                "AllocateFreeSingleThreadBenchmark.nettyPooledDirectThreadCache/1",
                "AllocateFreeSingleThreadBenchmark.arenaConfined/1",
                "AllocateFreeSingleThreadBenchmark.arenaShared/1",
                "AllocateFreeContendedBenchmark.blockPoolThreadCaches/2",
                "AllocateFreeContendedBenchmark.blockPoolLocked/2",
                "AllocateFreeContendedBenchmark.blockPoolOwnerPerThread/2",
                "AllocateFreeContendedBenchmark.nettyPooledDirect/2",
                "AllocateFreeContendedBenchmark.nettyPooledDirectThreadCache/2",
                "AllocateFreeContendedBenchmark.arenaConfined/2",
                "AllocateFreeContendedBenchmark.arenaShared/2",
                "TokenWriteBenchmark.sequenceAppendWrite/1",
                "TokenWriteBenchmark.stepWrite/1",
                "TokenWriteBenchmark.stepWriteFromF32/1",
                "TokenWriteBenchmark.stepWriteTokenRuns/1",
                "TokenWriteBenchmark.stepWriteFromF32TokenRuns/1",
                "TokenWriteBenchmark.memoryCopy/1",
                "TokenWriteBenchmark.headCopies/1",
                "TokenWriteBenchmark.tokenRunCopies/1"), ran);
        String md = ThroughputResults.markdown(results);
        assertTrue(md.contains("| 2 | 4,096 |"), md);
        assertTrue(md.contains("| F16 |"), md);
        assertTrue(md.contains("2 threads / 1 thread"), md);
        assertFalse(md.contains("NaN") || md.contains("| - |"), md);
    }
}
