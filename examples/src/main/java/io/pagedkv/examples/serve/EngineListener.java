package io.pagedkv.examples.serve;

/**
 * Told by the {@link Engine}'s scheduler thread what happens to requests, for metrics and logs.
 * Implementations must be quick and must not block: they run inside the scheduler's step.
 */
public interface EngineListener {

    /** {@code r} was admitted (again, after a preemption) and holds K/V now. */
    default void onAdmitted(EngineRequest r) {
    }

    /** {@code r} was preempted: its K/V released, it waits to be recomputed. */
    default void onPreempted(EngineRequest r) {
    }

    /** {@code r} produced a token at {@code nowNs} ({@link System#nanoTime()}). */
    default void onToken(EngineRequest r, long nowNs) {
    }

    /** {@code r} finished at {@code nowNs}; its K/V is released. */
    default void onFinished(EngineRequest r, long nowNs) {
    }

    /** {@code r} was cancelled (its client went away); its K/V is released. */
    default void onCancelled(EngineRequest r) {
    }

    /** {@code r} failed inside the engine; its K/V is released. */
    default void onFailed(EngineRequest r) {
    }
}
