package io.pagedkv.benchmarks.throughput;

import org.openjdk.jmh.annotations.Threads;

/**
 * {@link AllocateFreeBenchmark} on two threads sharing one pool and one Netty allocator (the machine
 * has two cores); the score is the pairs per second of both threads together.
 */
@Threads(2)
public class AllocateFreeContendedBenchmark extends AllocateFreeBenchmark {
}
