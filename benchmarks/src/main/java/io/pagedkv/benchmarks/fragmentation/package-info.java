/**
 * The fragmentation benchmark: request traces replayed into a fixed KV budget under contiguous and
 * paged allocation, reported as JMH auxiliary counts, and the tool that turns them into RESULTS.md.
 */
package io.pagedkv.benchmarks.fragmentation;
