package io.pagedkv.eviction.harness;

/**
 * What one policy did on one trace, measured on the decode steps against the shadow full cache.
 *
 * @param policy the policy's name
 * @param tokensKept tokens kept at the end (for the per-head reference: the union over heads, which is
 *     what must stay in memory; for a per-layer line-up: the mean over layers, and likewise the byte and
 *     block columns are per-layer sums divided by the layers)
 * @param bytesKept {@code tokensKept * bytesPerToken}
 * @param blocksFreed blocks returned to the pool (by tail-fill compaction after the prefill)
 * @param slotBytesCopied bytes moved by compaction ({@code moves * bytesPerToken})
 * @param recall mean over decode steps and heads of the full-cache attention mass on kept tokens
 * @param oracle mean of the top-k mass of the same rows, k = tokens kept at that step: the bound for
 *     any policy with that budget
 * @param top10Recall mean share of each row's 10 heaviest tokens that are kept
 * @param outputError mean relative L2 error of the attention output (weights times value vectors,
 *     renormalised over kept tokens) against the full cache
 * @param needleHits (step, head) pairs at the needle's steps where the needle was kept
 * @param needleChecks (step, head) pairs checked at the needle's steps (0 if not a needle trace)
 */
public record PolicyResult(
        String policy,
        long tokensKept,
        long bytesKept,
        long blocksFreed,
        long slotBytesCopied,
        double recall,
        double oracle,
        double top10Recall,
        double outputError,
        int needleHits,
        int needleChecks) {

    /** Recall as a share of what an oracle with the same budget gets. */
    public double recallOverOracle() {
        return oracle == 0 ? 0 : recall / oracle;
    }
}
