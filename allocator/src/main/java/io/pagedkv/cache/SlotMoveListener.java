package io.pagedkv.cache;

/** Told when eviction housekeeping gives a kept token a new slot (an eviction policy's {@code onMove}). */
@FunctionalInterface
public interface SlotMoveListener {

    /** The token that was in {@code fromSlot} is now in {@code toSlot}. */
    void moved(int fromSlot, int toSlot);
}
