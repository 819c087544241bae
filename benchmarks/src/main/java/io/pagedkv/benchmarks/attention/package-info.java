/** JMH benchmarks of attention over the paged cache against the contiguous textbook baseline. */
package io.pagedkv.benchmarks.attention;
