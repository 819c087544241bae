package io.pagedkv.cache;

/**
 * Makes a {@link BlockPool} fail where real memory trouble would, so tests can reach every
 * exhaustion and out-of-memory path on purpose: an allocation that answers "short" although blocks
 * are free, or a chunk commit (the lazy reservation of a chunk's off-heap memory) that fails as
 * {@code Arena.allocate} does when the machine has no memory left.
 *
 * <p>Given once, at construction ({@code new BlockPool(..., faults)} or
 * {@link PagedKvCache.Builder#faults(FaultInjector)}); a pool built without one pays a null check of a
 * final field per allocation and nothing else. {@link NthCallFaults} is the ready-made strategy
 * ("fail the n-th call from now"); a test may implement this interface itself, for example to block
 * inside a chunk commit and prove that other threads do not wait for it.
 *
 * <h2>Threading</h2>
 * The pool calls the hooks from whatever thread allocates, outside its own lock; implementations
 * must be thread-safe.
 */
public interface FaultInjector {

    /**
     * Called once per pool allocation call ({@link BlockPool#allocate()} or
     * {@link BlockPool#allocate(int, int[])}) before it looks at the free list.
     *
     * @param blocks the blocks the call asks for
     * @return {@code true} to make the call answer as if the pool were short: {@code NO_BLOCK} or
     *     {@code false}, nothing changed
     */
    boolean failAllocation(int blocks);

    /**
     * Called before the pool reserves the memory of chunk {@code chunk}.
     *
     * @return {@code true} to make the reservation fail as an {@code OutOfMemoryError} of the arena
     *     would
     */
    boolean failChunkCommit(int chunk);
}
