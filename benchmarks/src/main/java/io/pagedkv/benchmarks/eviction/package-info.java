/** JMH benchmarks of one decode step of each eviction policy at 4k, 32k and 128k tokens of context. */
package io.pagedkv.benchmarks.eviction;
