/** {@code pagedkv evict}: the eviction policy harness table on synthetic attention traces. */
package io.pagedkv.examples.evict;
