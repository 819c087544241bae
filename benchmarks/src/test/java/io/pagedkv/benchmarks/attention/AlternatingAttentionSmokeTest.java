package io.pagedkv.benchmarks.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@link DecodeAttentionBenchmark#alternating} in-process through JMH (forks 0, short iterations, 1k
 * tokens), read as {@link AttentionRatioReport} reads it: the measured iterations split into the two
 * kernels by the warmup count JMH reports, one ratio per paged iteration. Checks that it runs and is
 * read, not how fast.
 */
class AlternatingAttentionSmokeTest {

    static {
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void anOddWarmupCountLeavesTwoPagedAndThreeContiguousOfFiveMeasuredIterations() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(DecodeAttentionBenchmark.class.getName() + "\\.alternating$")
                .param("tokens", "1024")
                .param("dtype", "q8_0")
                .mode(Mode.SampleTime)
                .shouldFailOnError(true)
                .forks(0)
                .warmupIterations(3)
                .warmupTime(TimeValue.milliseconds(20))
                .measurementIterations(5)
                .measurementTime(TimeValue.milliseconds(20))
                .build()).run();
        List<BenchmarkResult> forks = new ArrayList<>();
        for (RunResult r : results) {
            forks.addAll(r.getBenchmarkResults());
        }
        List<AlternatingPairs> pairs = AttentionRatioReport.pairs(forks);
        assertEquals(1, pairs.size());
        AlternatingPairs p = pairs.get(0);
        // Warmups 0, 1, 2 ran paged, contiguous, paged: measured iterations 0..4 ran contiguous first.
        assertEquals(2, p.paged().length);
        assertEquals(3, p.contiguous().length);
        assertEquals(2, p.ratios().length);
        for (double t : p.paged()) {
            assertTrue(t > 0 && Double.isFinite(t), "paged µs " + t);
        }
        for (double t : p.contiguous()) {
            assertTrue(t > 0 && Double.isFinite(t), "contiguous µs " + t);
        }
        assertTrue(p.ratio() > 0 && Double.isFinite(p.ratio()), "ratio " + p.ratio());
    }
}
