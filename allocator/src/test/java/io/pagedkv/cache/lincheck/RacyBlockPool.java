package io.pagedkv.cache.lincheck;

/**
 * A deliberately broken block pool for the Lincheck tests: the same free stack and reference counts
 * as {@link io.pagedkv.cache.BlockPool} but without its lock, so two threads can pop the same id.
 * Lincheck must reject it; if it ever passes, the check itself is broken.
 */
final class RacyBlockPool {

    private final int[] freeStack;
    private final int[] refCounts;
    private int freeTop;

    RacyBlockPool(int blockCount) {
        freeStack = new int[blockCount];
        refCounts = new int[blockCount];
        for (int i = 0; i < blockCount; i++) {
            freeStack[i] = blockCount - 1 - i;
        }
        freeTop = blockCount;
    }

    int allocate() {
        int top = freeTop;
        if (top == 0) {
            return -1;
        }
        int id = freeStack[top - 1];
        refCounts[id] = 1;
        freeTop = top - 1;
        return id;
    }

    void retain(int id) {
        int rc = refCounts[id];
        if (rc <= 0) {
            throw new IllegalStateException("blockId: " + id + " (expected: allocated)");
        }
        refCounts[id] = rc + 1;
    }

    boolean release(int id) {
        int rc = refCounts[id];
        if (rc <= 0) {
            throw new IllegalStateException("blockId: " + id + " (expected: allocated)");
        }
        refCounts[id] = rc - 1;
        if (rc == 1) {
            freeStack[freeTop] = id;
            freeTop = freeTop + 1;
            return true;
        }
        return false;
    }

    int freeBlocks() {
        return freeTop;
    }
}
