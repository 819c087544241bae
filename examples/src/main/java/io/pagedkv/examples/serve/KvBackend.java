package io.pagedkv.examples.serve;

/**
 * The engine's cache-facing bookkeeping, in one place: admit a request (reusing a cached prefix),
 * reserve room for a step's tokens, plan the step, complete it (commit written blocks to the prefix
 * cache), free a sequence (finished, cancelled or preempted). The engine never touches the cache
 * otherwise; the decoder math reaches K/V only through {@link KvSequence#store()}.
 *
 * <h2>A step</h2>
 * {@link #reserve} for each scheduled sequence (admitting new ones with {@link #admit}), then
 * {@link #planStep()}, then the workers run the stores, then {@link #completeStep()}; releases and
 * preemptions happen between steps.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #admit} answers yes only if the request's whole remaining prompt and its first
 *       generated token fit now (plus the watermark when others run), so admitted requests do not
 *       preempt each other at once; a {@code null} answer leaves the cache exactly as it was.</li>
 *   <li>{@link #reserve} is all or nothing; only reserved tokens are written, and only written tokens
 *       are committed to the prefix cache (by {@link #completeStep()}) or read.</li>
 *   <li>After {@link #release} of every sequence, every block is free or cached (none leaked).</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * All methods run on the engine's scheduler thread, except {@link #usage()} (any thread, a
 * snapshot) and the {@link KvSequence#store()} of a scheduled sequence, which one worker thread
 * uses during a step (between {@link #planStep()} and {@link #completeStep()}) while the scheduler
 * waits.
 */
public interface KvBackend extends AutoCloseable {

    /**
     * Opens a sequence for a request whose tokens so far are {@code tokens[0 .. length)} (the prompt,
     * plus what it generated before a preemption), starting from the longest cached prefix, if
     * {@code length - cachedTokens + 1} more tokens fit now.
     *
     * @param othersRunning whether other sequences are running (the watermark applies only then,
     *     so a lone request always fits)
     * @return the sequence, or null when it does not fit now
     */
    KvSequence admit(int[] tokens, int length, boolean othersRunning);

    /**
     * Reserves room for {@code tokens[from .. from + n)} at the end of {@code seq}, all or nothing.
     *
     * @return false, changing nothing, when the pool is short (the engine preempts and retries)
     */
    boolean reserve(KvSequence seq, int[] tokens, int from, int n);

    /** Called once the step's reservations are made, before the workers run: the step API plans the batch here. */
    default void planStep() {
    }

    /**
     * Called after the workers ran, before any release: ends the step and offers the full, written
     * blocks to the prefix cache (a no-op without prefix caching). Does nothing when no step is planned.
     */
    default void completeStep() {
    }

    /** Frees {@code seq}; blocks it committed stay cached for later requests. */
    void release(KvSequence seq);

    /**
     * Frees {@code seq} to recompute it later: its written full blocks stay in the prefix cache, so
     * re-admission reuses them. Default: {@link #release}.
     */
    default void preempt(KvSequence seq) {
        release(seq);
    }

    /** Occupancy and counters now (a snapshot, safe from any thread). */
    KvUsage usage();

    /**
     * Binds the meters of the backend's cache to {@code registry} (for the paged cache: the
     * {@code pagedkv-micrometer} binding's block, sequence and prefix-cache meters).
     */
    void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry);

    /** One line naming the strategy, the dtype, the pool and its size, for the start-up banner. */
    String describe();

    /** Releases the pool; every sequence must have been released. */
    @Override
    void close();
}
