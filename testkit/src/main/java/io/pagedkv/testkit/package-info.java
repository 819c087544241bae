/**
 * Seeded property-based and model-based testing: generators on a recorded choice sequence
 * ({@link io.pagedkv.testkit.Gens}), properties ({@link io.pagedkv.testkit.Property}), state
 * machines ({@link io.pagedkv.testkit.Stateful}) and their parallel linearizability mode
 * ({@link io.pagedkv.testkit.ParallelStateful}), all shrinking failures and replayable by seed.
 */
package io.pagedkv.testkit;
