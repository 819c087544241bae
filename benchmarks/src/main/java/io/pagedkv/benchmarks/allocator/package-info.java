/** JMH benchmarks of the block pool's allocate/free and the prefix cache's lookup and reclaim paths. */
package io.pagedkv.benchmarks.allocator;
