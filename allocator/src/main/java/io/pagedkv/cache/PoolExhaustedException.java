package io.pagedkv.cache;

import java.io.Serial;

/**
 * Thrown by the throwing variants ({@link Sequence#append(int)}, a copy-on-write inside a write)
 * when the pool has fewer free blocks than needed. Nothing changed when it is thrown. The hot-path
 * variants ({@link Sequence#tryAppend(int)}, {@link BlockPool#allocate()}) return a code instead.
 */
public final class PoolExhaustedException extends IllegalStateException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final int requested;
    private final int free;

    /** An exception for a request of {@code requested} blocks when {@code free} were free. */
    public PoolExhaustedException(String what, int requested, int free, int total) {
        super(what + ": needs " + requested + " block(s) (expected: <= free blocks " + free + " of " + total + ")");
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
