package io.pagedkv.benchmarks.throughput;

import org.openjdk.jmh.annotations.Threads;

/** {@link AllocateFreeBenchmark} on one thread: the uncontended cost of an allocate + free pair. */
@Threads(1)
public class AllocateFreeSingleThreadBenchmark extends AllocateFreeBenchmark {
}
