/**
 * Attention kernels over the KV cache: {@link io.pagedkv.attention.PagedAttention} walks a
 * sequence's block table (with optional slot positions and holes), {@link
 * io.pagedkv.attention.SegmentAttention} runs the same loops over one contiguous segment per head
 * (the baseline that isolates what paging costs), and {@link io.pagedkv.attention.ContiguousAttention}
 * is the textbook oracle over plain float arrays that tests compare them with.
 */
package io.pagedkv.attention;
