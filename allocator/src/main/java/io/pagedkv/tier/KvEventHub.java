package io.pagedkv.tier;

import java.util.Arrays;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The listener list of one store: stores call {@link #stored}, {@link #removed} and {@link #cleared},
 * which build an event only when someone listens. Thread-safe (copy-on-write list); a listener that
 * throws is counted in {@link #listenerFailures()} and does not stop the others.
 */
public final class KvEventHub {

    private final String medium;
    private final CopyOnWriteArrayList<KvEventListener> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder failures = new LongAdder();

    /** A hub for a store of {@code medium}. */
    public KvEventHub(String medium) {
        if (medium == null || medium.isBlank()) {
            throw new IllegalArgumentException("medium: '" + medium + "' (expected: non-blank)");
        }
        this.medium = medium;
    }

    /** Adds a listener. */
    public void add(KvEventListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener: null (expected: a KvEventListener)");
        }
        listeners.add(listener);
    }

    /** Removes a listener; true if it was there. */
    public boolean remove(KvEventListener listener) {
        return listeners.remove(listener);
    }

    /** Whether any listener is registered (stores skip building events otherwise). */
    public boolean active() {
        return !listeners.isEmpty();
    }

    /** Emits {@link KvEvent.BlockStored} (copies the token range). */
    public void stored(BlockKey key, long parentHash, int[] tokens, int from, int count) {
        if (active()) {
            emit(new KvEvent.BlockStored(medium, key, parentHash, Arrays.copyOfRange(tokens, from, from + count)));
        }
    }

    /** Emits {@link KvEvent.BlockRemoved}. */
    public void removed(BlockKey key) {
        if (active()) {
            emit(new KvEvent.BlockRemoved(medium, key));
        }
    }

    /** Emits {@link KvEvent.AllBlocksCleared}. */
    public void cleared() {
        if (active()) {
            emit(new KvEvent.AllBlocksCleared(medium));
        }
    }

    private void emit(KvEvent e) {
        for (KvEventListener l : listeners) {
            try {
                l.onEvent(e);
            } catch (RuntimeException ex) {
                failures.increment();
            }
        }
    }

    /** Exceptions thrown by listeners so far. */
    public long listenerFailures() {
        return failures.sum();
    }
}
