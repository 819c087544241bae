/**
 * JMH throughput benchmarks with baselines measured in the same run: block allocate + free against
 * Netty's pooled direct allocator and {@code Arena} per block, and one token's K/V append + write
 * against a plain memory copy of the same bytes.
 */
package io.pagedkv.benchmarks.throughput;
