package io.pagedkv.tier;

/**
 * What a {@link BlockStore} tells its {@link KvEventListener}s, modelled on vLLM's KV cache events
 * ({@code BlockStored}, {@code BlockRemoved}, {@code AllBlocksCleared}): enough for a router to know
 * which server and which medium holds which prefix block. Events are immutable values.
 */
public sealed interface KvEvent permits KvEvent.BlockStored, KvEvent.BlockRemoved, KvEvent.AllBlocksCleared {

    /** The store's medium ({@link BlockStore#medium()}). */
    String medium();

    /**
     * A block's value was stored (or replaced).
     *
     * @param medium the store's medium
     * @param key the block's key
     * @param parentHash the chained hash of the block before it
     * @param tokens the block's token ids (a copy owned by the event; do not modify)
     */
    record BlockStored(String medium, BlockKey key, long parentHash, int[] tokens) implements KvEvent {
    }

    /**
     * A block's value left the store: removed, evicted for room, or dropped because it failed its checks.
     *
     * @param medium the store's medium
     * @param key the block's key
     */
    record BlockRemoved(String medium, BlockKey key) implements KvEvent {
    }

    /**
     * Every value of the store was removed.
     *
     * @param medium the store's medium
     */
    record AllBlocksCleared(String medium) implements KvEvent {
    }
}
