package io.pagedkv.examples.serve;

/**
 * The engine's cache-facing bookkeeping, in one place: admit a request (reusing a cached prefix),
 * reserve room for a step's tokens, commit written blocks to the prefix cache, free a sequence
 * (finished, cancelled or preempted). The engine never touches the cache otherwise; the decoder
 * math reaches K/V only through {@link KvSequence#store()}. Porting the engine onto another cache
 * API (the step API of issue 25) means writing one more implementation of this interface.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #admit} answers yes only if the request's whole remaining prompt and its first
 *       generated token fit now (plus the watermark when others run), so admitted requests do not
 *       preempt each other at once; a {@code null} answer leaves the pool's occupancy as it was.</li>
 *   <li>{@link #reserve} is all or nothing; only reserved tokens are written, and every reserved
 *       token is written by the step that reserved it before {@link #commit} runs, so a commit never
 *       names a slot that was reserved but not written.</li>
 *   <li>After {@link #release} of every sequence, every block is free or cached (none leaked).</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * All methods run on the engine's scheduler thread, except {@link #usage()} (any thread, a
 * snapshot) and the {@link KvSequence#store()} of a scheduled sequence, which one worker thread
 * uses during a step while the scheduler waits.
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

    /** Offers {@code seq}'s full, written blocks to the prefix cache (a no-op without prefix caching). */
    void commit(KvSequence seq);

    /** Frees {@code seq}; blocks it committed stay cached for later requests. */
    void release(KvSequence seq);

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
