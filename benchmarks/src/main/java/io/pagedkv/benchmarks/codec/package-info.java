/** JMH benchmarks of the KV codecs: encode and decode throughput per dtype, scalar vs Vector API. */
package io.pagedkv.benchmarks.codec;
