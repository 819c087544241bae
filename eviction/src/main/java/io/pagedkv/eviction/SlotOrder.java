package io.pagedkv.eviction;

/** The order in which a policy would evict two candidate slots: the heap keeps the first victim on top. */
@FunctionalInterface
interface SlotOrder {

    /** Whether slot {@code a} is evicted before slot {@code b}. */
    boolean evictsBefore(int a, int b);
}
