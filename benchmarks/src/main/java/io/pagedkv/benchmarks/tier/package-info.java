/** Restore throughput of the storage tiers against a plain memory copy of the same bytes. */
package io.pagedkv.benchmarks.tier;
