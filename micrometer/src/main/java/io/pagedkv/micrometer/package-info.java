/** Micrometer meters for a {@link io.pagedkv.cache.PagedKvCache}: {@link io.pagedkv.micrometer.PagedKvCacheMetrics}. */
package io.pagedkv.micrometer;
