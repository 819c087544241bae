package io.pagedkv.benchmarks.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@link EngineStepBenchmark} in-process through JMH (forks 0, one short iteration), both prefix
 * caching settings, so a broken benchmark fails the build: each case ran steps of {@value
 * EngineStepBenchmark#BATCH} rows and scored. Checks that it ran, not how fast.
 */
class EngineStepBenchmarkSmokeTest {

    static {
        // The smoke checks that the benchmark runs, not its speed: no need to wait for another JMH run.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void bothPrefixCachingCasesRunStepsOfTheWholeBatchAndScore() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(EngineStepBenchmark.class.getName())
                .shouldFailOnError(true)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .build()).run();
        Set<String> ran = new HashSet<>();
        for (RunResult r : results) {
            ran.add(r.getParams().getParam("prefixCaching"));
            double step = r.getPrimaryResult().getScore();
            var secondary = r.getSecondaryResults();
            double row = secondary.get("rows").getScore();
            double token = secondary.get("tokens").getScore();
            assertTrue(step > 0 && Double.isFinite(step), "ns per step " + step);
            assertEquals(EngineStepBenchmark.BATCH, step / row, 1e-6 * EngineStepBenchmark.BATCH,
                    "every step schedules the whole batch: " + step + " ns a step, " + row + " a row");
            assertTrue(token > 0 && token <= row, "a row carries at least one token: " + token + " ns a token");
        }
        assertEquals(Set.of("true", "false"), ran);
    }
}
