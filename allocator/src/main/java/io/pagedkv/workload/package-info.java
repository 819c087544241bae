/**
 * Seeded request-length traces shaped like the PagedAttention paper's workloads (ShareGPT, Alpaca)
 * and a multi-turn agent trace with token ids, for simulations and fragmentation benchmarks.
 */
package io.pagedkv.workload;
