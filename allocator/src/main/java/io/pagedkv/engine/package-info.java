/**
 * The engine-facing step API: a scheduler thread plans each step of a batch with a
 * {@link io.pagedkv.engine.StepPlanner} and hands worker threads a kernel-ready
 * {@link io.pagedkv.engine.StepPlan} (slot mapping, padded block tables, query start offsets and
 * sequence lengths), which they fill through {@link io.pagedkv.engine.KvWriter}s; a hybrid model's
 * layer groups are planned the same way by a {@link io.pagedkv.engine.GroupedStepPlanner} (per group
 * a slot mapping and padded block tables). See docs/engine.md.
 */
package io.pagedkv.engine;
