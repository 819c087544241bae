package io.pagedkv.cache;

/**
 * What a prompt would reuse from the prefix cache now: the answer of
 * {@link PagedKvCache#probePrefix(int[], int, PrefixKeys)}, taken without touching the cache.
 *
 * @param tokens leading prompt tokens an open would reuse ({@code blocks * blockSize})
 * @param blocks cached full blocks an open would share
 * @param reclaimableBlocks how many of those blocks are cached-unreferenced today: an open takes them
 *     out of {@link PagedKvCache#availableBlocks()}, so admission counts them as blocks it needs
 */
public record PrefixProbe(int tokens, int blocks, int reclaimableBlocks) {

    /** Validates {@code 0 <= reclaimableBlocks <= blocks} and {@code tokens >= 0}. */
    public PrefixProbe {
        if (tokens < 0 || blocks < 0 || reclaimableBlocks < 0 || reclaimableBlocks > blocks) {
            throw new IllegalArgumentException("probe: tokens " + tokens + ", blocks " + blocks + ", reclaimable "
                    + reclaimableBlocks + " (expected: all >= 0, reclaimable <= blocks)");
        }
    }
}
