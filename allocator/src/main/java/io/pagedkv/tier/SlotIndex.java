package io.pagedkv.tier;

/**
 * An open-addressing hash index from a block key (three longs) to a slot id, allocation-free after
 * construction: the table holds {@code slot + 1} (0 = empty) and compares the key fields the owner
 * keeps per slot. Linear probing with backward-shift deletion (no tombstones), load factor at most
 * one half. Not thread-safe: guarded by its owner's lock.
 */
final class SlotIndex {

    private final int[] table;
    private final int mask;
    private final long[] fp;
    private final long[] hash;
    private final long[] salt;

    /** An index for up to {@code slots} slots whose keys are {@code fp[s], hash[s], salt[s]}. */
    SlotIndex(int slots, long[] fp, long[] hash, long[] salt) {
        int size = Integer.highestOneBit(Math.max(2, slots) * 2 - 1) << 1;
        if (size <= 0) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: <= 2^29)");
        }
        this.table = new int[size];
        this.mask = size - 1;
        this.fp = fp;
        this.hash = hash;
        this.salt = salt;
    }

    private int home(long f, long h, long s) {
        long x = f ^ h * 0x9E3779B97F4A7C15L ^ s * 0xC2B2AE3D27D4EB4FL;
        x ^= x >>> 33;
        x *= 0xFF51AFD7ED558CCDL;
        x ^= x >>> 33;
        return (int) x & mask;
    }

    /** The slot holding key {@code (f, h, s)}, or -1. */
    int find(long f, long h, long s) {
        for (int i = home(f, h, s);; i = (i + 1) & mask) {
            int e = table[i];
            if (e == 0) {
                return -1;
            }
            int slot = e - 1;
            if (hash[slot] == h && fp[slot] == f && salt[slot] == s) {
                return slot;
            }
        }
    }

    /** Adds {@code slot}, whose key fields are set and not yet indexed. */
    void insert(int slot) {
        int i = home(fp[slot], hash[slot], salt[slot]);
        while (table[i] != 0) {
            i = (i + 1) & mask;
        }
        table[i] = slot + 1;
    }

    /** Removes {@code slot}, which must be indexed (its key fields unchanged since insert). */
    void delete(int slot) {
        int i = home(fp[slot], hash[slot], salt[slot]);
        while (table[i] != slot + 1) {
            if (table[i] == 0) {
                throw new IllegalStateException("slot: " + slot + " (expected: indexed)");
            }
            i = (i + 1) & mask;
        }
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            int e = table[j];
            if (e == 0) {
                break;
            }
            int k = home(fp[e - 1], hash[e - 1], salt[e - 1]);
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                table[i] = e;
                i = j;
            }
        }
        table[i] = 0;
    }

    /** Removes every slot. */
    void clear() {
        java.util.Arrays.fill(table, 0);
    }
}
