/**
 * The memory planner: how many bytes a model's weights and KV cache take, whether a workload fits a
 * memory budget, and the largest context and concurrency that do, with explicit GB and GiB units.
 */
package io.pagedkv.plan;
