package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * An unordered set of slot numbers with O(1) add, remove, rename and dense iteration
 * ({@code get(0 .. size-1)}). Removal swaps the last member into the hole. Not thread-safe.
 */
final class SlotSet {

    private int[] members;
    private int[] indexOfSlot;
    private int size;

    SlotSet(int slotCapacity) {
        members = new int[Math.max(8, slotCapacity)];
        indexOfSlot = new int[Math.max(8, slotCapacity)];
        Arrays.fill(indexOfSlot, -1);
    }

    private SlotSet(SlotSet o) {
        members = o.members.clone();
        indexOfSlot = o.indexOfSlot.clone();
        size = o.size;
    }

    /** An independent set with the same members in the same iteration order. */
    SlotSet copy() {
        return new SlotSet(this);
    }

    int size() {
        return size;
    }

    int get(int i) {
        return members[i];
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
        ensureSlotCapacity(slot + 1);
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
        }
        members[size] = slot;
        indexOfSlot[slot] = size;
        size++;
    }

    void remove(int slot) {
        int i = indexOfSlot[slot];
        int last = members[--size];
        members[i] = last;
        indexOfSlot[last] = i;
        indexOfSlot[slot] = -1;
    }

    void move(int from, int to) {
        ensureSlotCapacity(to + 1);
        int i = indexOfSlot[from];
        members[i] = to;
        indexOfSlot[to] = i;
        indexOfSlot[from] = -1;
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            indexOfSlot[members[i]] = -1;
        }
        size = 0;
    }
}
