/**
 * The paged KV cache: block layout, off-heap block pool, sequences with block tables, fork and
 * copy-on-write, prefix caching, stats and JFR events.
 */
package io.pagedkv.cache;
