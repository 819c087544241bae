package io.pagedkv.engine;

/**
 * What admitting a request would take now: the answer of
 * {@link StepPlanner#probe(int[], int, io.pagedkv.cache.PrefixKeys)}, computed without touching the
 * cache (no block taken, no LRU move, no counter change).
 *
 * @param cachedTokens leading prompt tokens the prefix cache would serve (the engine computes the rest)
 * @param blocksNeeded blocks admission takes from the cache's available blocks to hold the whole prompt
 *     and one generated token: new blocks, plus cached blocks that no sequence holds today (reusing
 *     them takes them out of the reclaimable pool)
 * @param fitsNow whether {@code blocksNeeded}, plus the watermark when other sequences run, fit in the
 *     available blocks now: what {@link StepPlanner#admit} decides
 * @param fitsEver whether the request could fit in the whole pool at all (if not, it never will:
 *     refuse it instead of queueing it)
 */
public record AdmissionProbe(int cachedTokens, int blocksNeeded, boolean fitsNow, boolean fitsEver) {
}
