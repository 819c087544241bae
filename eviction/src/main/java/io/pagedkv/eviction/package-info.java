/** Eviction policies that pick which cached tokens to drop when a sequence exceeds its budget. */
package io.pagedkv.eviction;
