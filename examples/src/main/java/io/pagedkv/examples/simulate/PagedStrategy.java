package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;

/**
 * pagedkv's way: memory is a pool of fixed-size blocks, a request holds {@code ceil(tokens /
 * blockSize)} of them and takes one more only when its last block is full.
 *
 * <p>The pool holds {@code floor(budget / bytesPerBlock)} blocks of the full-scale layout. Admission
 * needs blocks for the prefill plus the first generated token; a decode step needs a new block only
 * every {@code blockSize} tokens. The only waste is the unfilled tail of each request's last block.
 * Confined to the scheduler thread.
 */
public final class PagedStrategy implements KvAllocationStrategy {

    private final CacheLayout fullLayout;
    private final long capacityBytes;
    private final long totalBlocks;
    private long freeBlocks;

    /** A pool of as many {@code fullLayout} blocks as fit in {@code budgetBytes}. */
    public PagedStrategy(CacheLayout fullLayout, long budgetBytes) {
        long blocks = budgetBytes / fullLayout.bytesPerBlock();
        if (blocks < 1) {
            throw new IllegalArgumentException("budgetBytes: " + budgetBytes + " (expected: >= one block of "
                    + fullLayout.bytesPerBlock() + " bytes)");
        }
        this.fullLayout = fullLayout;
        this.capacityBytes = budgetBytes;
        this.totalBlocks = blocks;
        this.freeBlocks = blocks;
    }

    /** The layout whose block size and bytes the figures use. */
    public CacheLayout fullLayout() {
        return fullLayout;
    }

    /** Blocks in the pool. */
    public long totalBlocks() {
        return totalBlocks;
    }

    @Override
    public String name() {
        return "paged";
    }

    @Override
    public long bytesPerToken() {
        return fullLayout.bytesPerToken();
    }

    @Override
    public long capacityBytes() {
        return capacityBytes;
    }

    @Override
    public long reservedBytes() {
        return (totalBlocks - freeBlocks) * fullLayout.bytesPerBlock();
    }

    @Override
    public long bytesToAdmit(SimRequest request) {
        return fullLayout.blocksFor(request.tokensToPrefill() + 1L) * fullLayout.bytesPerBlock();
    }

    @Override
    public boolean refusedByFragmentation(SimRequest request) {
        return false; // any free block serves any request
    }

    @Override
    public int admit(SimRequest request) {
        long need = fullLayout.blocksFor(request.tokensToPrefill() + 1L);
        if (need > freeBlocks) {
            return NO_ROOM;
        }
        long blocks = fullLayout.blocksFor(request.tokensToPrefill());
        freeBlocks -= blocks;
        request.allocationOffset = blocks;
        return 0;
    }

    @Override
    public boolean append(SimRequest request) {
        if (request.cachedTokens() % fullLayout.blockSize() != 0) {
            return true;
        }
        if (freeBlocks == 0) {
            return false;
        }
        freeBlocks--;
        request.allocationOffset++;
        return true;
    }

    @Override
    public void release(SimRequest request) {
        freeBlocks += request.allocationOffset;
    }

    @Override
    public void checkDrained() {
        if (freeBlocks != totalBlocks) {
            throw new IllegalStateException("paged: " + freeBlocks + " of " + totalBlocks + " blocks free (expected: all)");
        }
    }

    @Override
    public void close() {
        // Bookkeeping only until the pool is backed by PagedKvCache.
    }
}
