package io.pagedkv.tier;

/**
 * Receives a {@link BlockStore}'s {@link KvEvent}s. Called on the thread that stored, removed or
 * cleared (a transfer worker, usually), never under a store's lock; implementations must be
 * thread-safe, quick and must not throw (a thrown exception is counted and swallowed by the store).
 */
@FunctionalInterface
public interface KvEventListener {

    /** One event. */
    void onEvent(KvEvent event);
}
