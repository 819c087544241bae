package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Every task of every step runs exactly once, whatever the thread count and the step sizes. */
class StepWorkersTest {

    /** A task that counts its runs and notes the threads it ran on. */
    private static final class Counting implements StepTask {
        final AtomicInteger runs = new AtomicInteger();
        final Set<String> threads = java.util.Collections.synchronizedSet(new HashSet<>());

        @Override
        public void runStep() {
            runs.incrementAndGet();
            threads.add(Thread.currentThread().getName());
        }
    }

    @Test
    void everyTaskOfEveryStepRunsExactlyOnceAndRunReturnsOnlyWhenAllHaveRun() {
        for (int threads : new int[] {1, 2, 4}) {
            Counting[] tasks = new Counting[64];
            for (int i = 0; i < tasks.length; i++) {
                tasks[i] = new Counting();
            }
            int[] expected = new int[tasks.length];
            try (StepWorkers w = new StepWorkers(threads)) {
                for (int s = 0; s < 3000; s++) {
                    int count = 1 + (s * 7) % tasks.length;
                    w.run(tasks, count);
                    for (int i = 0; i < tasks.length; i++) {
                        expected[i] += i < count ? 1 : 0;
                        assertEquals(expected[i], tasks[i].runs.get(), threads + " threads, step " + s + ", task " + i);
                    }
                }
            }
        }
    }
}
