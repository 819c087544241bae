package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * Numbers the (layer, head) pairs a policy is fed, in order of first appearance, and remembers the
 * vector length they all share: the bookkeeping of policies that keep per-head vectors (KeyDiff,
 * LagKV). Grows only when a new pair or layer first appears. Not thread-safe.
 */
final class HeadPairs {

    private int[][] indexOf = new int[0][];
    private int count;
    private int dim;

    HeadPairs() {
    }

    HeadPairs(HeadPairs o) {
        indexOf = new int[o.indexOf.length][];
        for (int l = 0; l < indexOf.length; l++) {
            indexOf[l] = o.indexOf[l] == null ? null : o.indexOf[l].clone();
        }
        count = o.count;
        dim = o.dim;
    }

    /** Pairs seen so far. */
    int count() {
        return count;
    }

    /** The vector length of every pair (0 before the first vector). */
    int dim() {
        return dim;
    }

    /**
     * The index of (layer, head), numbering it if new; checks that {@code len} equals the length of
     * every earlier vector.
     */
    int index(int layer, int head, int len) {
        if (dim == 0) {
            dim = len;
        } else if (len != dim) {
            throw new IllegalArgumentException("len: " + len + " (expected: " + dim + ", the head dim of earlier vectors)");
        }
        if (layer >= indexOf.length) {
            indexOf = Arrays.copyOf(indexOf, Math.max(layer + 1, indexOf.length * 2));
        }
        int[] row = indexOf[layer];
        if (row == null || head >= row.length) {
            int old = row == null ? 0 : row.length;
            row = row == null ? new int[Math.max(head + 1, 4)] : Arrays.copyOf(row, Math.max(head + 1, old * 2));
            Arrays.fill(row, old, row.length, -1);
            indexOf[layer] = row;
        }
        int i = row[head];
        if (i < 0) {
            i = count++;
            row[head] = i;
        }
        return i;
    }

    void clear() {
        indexOf = new int[0][];
        count = 0;
        dim = 0;
    }
}
