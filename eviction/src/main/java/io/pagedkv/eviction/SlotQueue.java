package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * A first-in first-out queue of slot numbers that can also rename a queued slot in O(1) (when
 * compaction moves a token to another slot).
 *
 * <p>Entries live in a power-of-two ring addressed by a monotonically growing sequence number;
 * {@code seqOfSlot[slot]} remembers where each queued slot sits, so {@link #move} needs no search.
 * Grows by doubling (amortised, never per token in steady state). Not thread-safe.
 */
final class SlotQueue {

    private static final long ABSENT = -1L;

    private int[] ring;
    private long[] seqOfSlot;
    private long head;
    private long tail;

    SlotQueue(int slotCapacity) {
        ring = new int[Integer.highestOneBit(Math.max(8, slotCapacity - 1)) << 1];
        seqOfSlot = new long[Math.max(8, slotCapacity)];
        Arrays.fill(seqOfSlot, ABSENT);
    }

    private SlotQueue(SlotQueue o) {
        ring = o.ring.clone();
        seqOfSlot = o.seqOfSlot.clone();
        head = o.head;
        tail = o.tail;
    }

    /** An independent queue with the same entries in the same order. */
    SlotQueue copy() {
        return new SlotQueue(this);
    }

    int size() {
        return (int) (tail - head);
    }

    boolean contains(int slot) {
        return slot < seqOfSlot.length && seqOfSlot[slot] != ABSENT;
    }

    void ensureSlotCapacity(int slots) {
        if (slots > seqOfSlot.length) {
            int old = seqOfSlot.length;
            seqOfSlot = Arrays.copyOf(seqOfSlot, Math.max(slots, old * 2));
            Arrays.fill(seqOfSlot, old, seqOfSlot.length, ABSENT);
        }
    }

    void addLast(int slot) {
        if (size() == ring.length) {
            int[] bigger = new int[ring.length * 2];
            for (long s = head; s < tail; s++) {
                bigger[(int) (s & (bigger.length - 1))] = ring[(int) (s & (ring.length - 1))];
            }
            ring = bigger;
        }
        ensureSlotCapacity(slot + 1);
        ring[(int) (tail & (ring.length - 1))] = slot;
        seqOfSlot[slot] = tail;
        tail++;
    }

    int peekFirst() {
        return ring[(int) (head & (ring.length - 1))];
    }

    int removeFirst() {
        int slot = ring[(int) (head & (ring.length - 1))];
        seqOfSlot[slot] = ABSENT;
        head++;
        return slot;
    }

    /** The {@code i}-th queued slot, 0 being the oldest. */
    int get(int i) {
        return ring[(int) ((head + i) & (ring.length - 1))];
    }

    void move(int from, int to) {
        ensureSlotCapacity(to + 1);
        long seq = seqOfSlot[from];
        ring[(int) (seq & (ring.length - 1))] = to;
        seqOfSlot[to] = seq;
        seqOfSlot[from] = ABSENT;
    }

    void clear() {
        for (long s = head; s < tail; s++) {
            seqOfSlot[ring[(int) (s & (ring.length - 1))]] = ABSENT;
        }
        head = 0;
        tail = 0;
    }
}
