package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * An indexed binary heap of slot numbers whose top is the next victim under a {@link SlotOrder}.
 *
 * <p>O(log n) add, remove-top, remove-any and re-key ({@link #update}); O(1) rename ({@link #move});
 * O(n) bulk build ({@link #addUnordered} then {@link #heapify}). Keys live in the policy, not here:
 * after a policy changes the key of a queued slot it calls {@link #update}. Not thread-safe.
 */
final class SlotHeap {

    private final SlotOrder order;
    private int[] heap;
    private int[] indexOfSlot;
    private int size;

    SlotHeap(SlotOrder order, int slotCapacity) {
        this.order = order;
        heap = new int[Math.max(8, slotCapacity)];
        indexOfSlot = new int[Math.max(8, slotCapacity)];
        Arrays.fill(indexOfSlot, -1);
    }

    private SlotHeap(SlotHeap o, SlotOrder order) {
        this.order = order;
        heap = o.heap.clone();
        indexOfSlot = o.indexOfSlot.clone();
        size = o.size;
    }

    /** An independent heap with the same entries in the same layout, ordered by {@code order} (the copied policy). */
    SlotHeap copy(SlotOrder order) {
        return new SlotHeap(this, order);
    }

    int size() {
        return size;
    }

    boolean contains(int slot) {
        return slot < indexOfSlot.length && indexOfSlot[slot] >= 0;
    }

    void ensureSlotCapacity(int slots) {
        if (slots > indexOfSlot.length) {
            int old = indexOfSlot.length;
            indexOfSlot = Arrays.copyOf(indexOfSlot, Math.max(slots, old * 2));
            Arrays.fill(indexOfSlot, old, indexOfSlot.length, -1);
        }
    }

    void add(int slot) {
        addUnordered(slot);
        siftUp(size - 1);
    }

    /** Appends without restoring heap order; call {@link #heapify} before the next pop. */
    void addUnordered(int slot) {
        ensureSlotCapacity(slot + 1);
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = slot;
        indexOfSlot[slot] = size;
        size++;
    }

    void heapify() {
        for (int i = (size >>> 1) - 1; i >= 0; i--) {
            siftDown(i);
        }
    }

    int peek() {
        return heap[0];
    }

    int poll() {
        int top = heap[0];
        removeAt(0);
        return top;
    }

    void remove(int slot) {
        removeAt(indexOfSlot[slot]);
    }

    /** Restores order after the key of {@code slot} changed in either direction. */
    void update(int slot) {
        int i = indexOfSlot[slot];
        siftUp(i);
        siftDown(indexOfSlot[slot]);
    }

    void move(int from, int to) {
        ensureSlotCapacity(to + 1);
        int i = indexOfSlot[from];
        heap[i] = to;
        indexOfSlot[to] = i;
        indexOfSlot[from] = -1;
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            indexOfSlot[heap[i]] = -1;
        }
        size = 0;
    }

    private void removeAt(int i) {
        int slot = heap[i];
        indexOfSlot[slot] = -1;
        size--;
        if (i == size) {
            return;
        }
        int last = heap[size];
        heap[i] = last;
        indexOfSlot[last] = i;
        siftUp(i);
        siftDown(indexOfSlot[last]);
    }

    private void siftUp(int i) {
        int slot = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            int p = heap[parent];
            if (!order.evictsBefore(slot, p)) {
                break;
            }
            heap[i] = p;
            indexOfSlot[p] = i;
            i = parent;
        }
        heap[i] = slot;
        indexOfSlot[slot] = i;
    }

    private void siftDown(int i) {
        int slot = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int c = heap[child];
            int right = child + 1;
            if (right < size && order.evictsBefore(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!order.evictsBefore(c, slot)) {
                break;
            }
            heap[i] = c;
            indexOfSlot[c] = i;
            i = child;
        }
        heap[i] = slot;
        indexOfSlot[slot] = i;
    }
}
