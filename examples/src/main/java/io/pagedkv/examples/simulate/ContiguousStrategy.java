package io.pagedkv.examples.simulate;

/**
 * The baselines: one contiguous region per request, reserved in full at admission from a
 * {@link FirstFitArena}.
 *
 * <ul>
 *   <li>{@link #maxContext}: every request reserves the whole context, as a plain {@code
 *       float[maxContext]} cache (or a static batch slot) does;
 *   <li>{@link #promptPlusMaxOutput}: a request reserves its prompt plus its declared {@code
 *       max_tokens}, first fit (the Orca-style baseline of the PagedAttention paper).
 * </ul>
 *
 * <p>Decoding never needs more memory (the region was reserved ahead), so these strategies never
 * preempt; what they lose is the unused rest of each region (internal fragmentation) and holes too
 * small for the next request (external fragmentation). Bookkeeping only: no K/V bytes are written.
 * Confined to the scheduler thread.
 */
public final class ContiguousStrategy implements KvAllocationStrategy {

    private final String name;
    private final FirstFitArena arena;
    private final long bytesPerToken;
    private final int reserveTokensFixed;

    private ContiguousStrategy(String name, long capacityBytes, long bytesPerToken, int reserveTokensFixed) {
        if (bytesPerToken <= 0) {
            throw new IllegalArgumentException("bytesPerToken: " + bytesPerToken + " (expected: > 0)");
        }
        this.name = name;
        this.arena = new FirstFitArena(capacityBytes);
        this.bytesPerToken = bytesPerToken;
        this.reserveTokensFixed = reserveTokensFixed;
    }

    /** Reserves {@code maxContext} tokens per request. */
    public static ContiguousStrategy maxContext(long capacityBytes, long bytesPerToken, int maxContext) {
        if (maxContext <= 0) {
            throw new IllegalArgumentException("maxContext: " + maxContext + " (expected: > 0 tokens)");
        }
        return new ContiguousStrategy("contiguous-max", capacityBytes, bytesPerToken, maxContext);
    }

    /** Reserves prompt + declared max output per request, first fit. */
    public static ContiguousStrategy promptPlusMaxOutput(long capacityBytes, long bytesPerToken) {
        return new ContiguousStrategy("first-fit", capacityBytes, bytesPerToken, 0);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long bytesPerToken() {
        return bytesPerToken;
    }

    @Override
    public long capacityBytes() {
        return arena.capacity();
    }

    @Override
    public long reservedBytes() {
        return arena.capacity() - arena.freeBytes();
    }

    @Override
    public long bytesToAdmit(SimRequest request) {
        int tokens = reserveTokensFixed > 0 ? reserveTokensFixed : request.trace().reservedTokens();
        return tokens * bytesPerToken;
    }

    @Override
    public boolean refusedByFragmentation(SimRequest request) {
        long need = bytesToAdmit(request);
        return arena.freeBytes() >= need && arena.largestHole() < need;
    }

    @Override
    public int admit(SimRequest request) {
        long offset = arena.allocate(bytesToAdmit(request));
        if (offset == FirstFitArena.NO_RANGE) {
            return NO_ROOM;
        }
        request.allocationOffset = offset;
        return 0;
    }

    @Override
    public boolean append(SimRequest request) {
        long reservedTokens = bytesToAdmit(request) / bytesPerToken;
        if (request.cachedTokens() + 1 > reservedTokens) {
            throw new IllegalStateException("request " + request.trace().id() + " grows to " + (request.cachedTokens() + 1)
                    + " tokens (expected: <= its reservation of " + reservedTokens + ")");
        }
        return true;
    }

    @Override
    public void release(SimRequest request) {
        arena.free(request.allocationOffset, bytesToAdmit(request));
    }

    @Override
    public void checkDrained() {
        if (arena.freeBytes() != arena.capacity() || arena.holes() != 1) {
            throw new IllegalStateException(name + ": " + arena.freeBytes() + " of " + arena.capacity() + " bytes free in "
                    + arena.holes() + " holes (expected: all free in 1 hole)");
        }
    }

    @Override
    public void close() {
        // Bookkeeping only: nothing to free.
    }
}
