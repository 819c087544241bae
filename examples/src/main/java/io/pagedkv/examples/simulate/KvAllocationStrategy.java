package io.pagedkv.examples.simulate;

/**
 * How a serving engine finds KV memory for its requests: the part the simulator compares.
 *
 * <p>The scheduler calls {@link #admit} once per (re-)admission, {@link #append} once per generated
 * token, and {@link #release} when a request finishes or is preempted. A call that cannot be served
 * returns {@link #NO_ROOM} or {@code false} and leaves the state exactly as it was; the scheduler then
 * queues or preempts. Byte figures are at the full model scale whatever the strategy stores
 * physically. Implementations are confined to the scheduler thread.
 */
public interface KvAllocationStrategy extends AutoCloseable {

    /** Returned by {@link #admit} when the request does not fit now. */
    int NO_ROOM = -1;

    /** A short name for reports, e.g. {@code paged}. */
    String name();

    /** The memory budget this strategy manages, in bytes. */
    long capacityBytes();

    /** Bytes of K and V of one token at the full model scale. */
    long bytesPerToken();

    /** Bytes currently held by admitted requests (allocated blocks or reserved regions). */
    long reservedBytes();

    /** Bytes a waiting request needs before it can be admitted. */
    long bytesToAdmit(SimRequest request);

    /**
     * Whether {@code request} was refused although the free bytes in total would hold it: the free
     * memory exists but not in one usable piece (external fragmentation).
     */
    boolean refusedByFragmentation(SimRequest request);

    /**
     * Finds room for the request's prefill (and whatever this strategy reserves up front) and writes
     * the prefill's K/V.
     *
     * @return the number of prompt tokens reused from a prefix cache (0 without one), or {@link
     *     #NO_ROOM} with nothing changed
     */
    int admit(SimRequest request);

    /** Finds room for one more token of an admitted request and writes its K/V; {@code false} when full. */
    boolean append(SimRequest request);

    /** Frees everything the request holds (to a prefix cache where there is one). */
    void release(SimRequest request);

    /** Tokens of an admitted request that are in the cache now (fewer than its length once a policy evicts). */
    default int liveTokens(SimRequest request) {
        return request.cachedTokens();
    }

    /**
     * Tokens physically held for the running requests: the sum of {@link #liveTokens(SimRequest)},
     * except where requests share memory (a prefix-cached block counts once).
     */
    default long liveTokens(java.util.List<SimRequest> running) {
        long sum = 0;
        for (int i = 0; i < running.size(); i++) {
            sum += liveTokens(running.get(i));
        }
        return sum;
    }

    /** Tokens dropped by an eviction policy so far (0 without one). */
    default long tokensEvicted() {
        return 0;
    }

    /**
     * Blocks the strategy holds that no request owns but a prefix cache keeps (0 without one); they
     * are reclaimed when room is needed, so they count as free for conservation.
     */
    default long cachedIdleBytes() {
        return 0;
    }

    /** Checks the strategy's own conservation law with no request admitted; throws if broken. */
    void checkDrained();

    /** Frees any memory this strategy owns. */
    @Override
    void close();
}
