/**
 * Attention kernels over the KV cache: {@link io.pagedkv.attention.PagedAttention} walks a
 * sequence's block table, {@link io.pagedkv.attention.ContiguousAttention} is the textbook oracle
 * over plain arrays that tests and benchmarks compare it with.
 */
package io.pagedkv.attention;
