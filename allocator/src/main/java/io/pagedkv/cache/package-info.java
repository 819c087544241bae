/** The paged KV cache: block layout, off-heap block pool, sequences and their block tables. */
package io.pagedkv.cache;
