package io.pagedkv.cache;

import java.io.Serial;

/**
 * Thrown by the throwing variants ({@link Sequence#append(int)}, a copy-on-write inside a write)
 * when the pool cannot hand out the blocks needed: too few are free, or (rarely) the memory of a new
 * chunk could not be reserved. Nothing changed when it is thrown. The hot-path
 * variants ({@link Sequence#tryAppend(int)}, {@link BlockPool#allocate()}) return a code instead.
 */
public final class PoolExhaustedException extends IllegalStateException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final int requested;
    private final int free;

    /** An exception for a request of {@code requested} blocks when {@code free} were free. */
    public PoolExhaustedException(String what, int requested, int free, int total) {
        super(what + ": needs " + requested + " block(s) (expected: <= free blocks " + free + " of " + total + ")"
                + (free >= requested ? "; free blocks could not be handed out: their chunk's memory could not be"
                        + " reserved (see BlockPool.chunkCommitFailures()) or a fault was injected" : ""));
        this.requested = requested;
        this.free = free;
    }

    /** Blocks the failed request needed. */
    public int requested() {
        return requested;
    }

    /** Blocks that were free when it failed. */
    public int free() {
        return free;
    }
}
