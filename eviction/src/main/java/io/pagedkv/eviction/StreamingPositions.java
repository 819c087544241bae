package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * StreamingLLM's position rule: after an eviction, the kept tokens take the positions of their places
 * in the cache, 0 .. n-1 in the order of their original positions (sinks first, then the recent
 * window), instead of their original position ids.
 *
 * <p>Computed once per eviction batch (it sorts the kept tokens, so never call it per token); the keys
 * then need re-rotating from each token's original position to its new one ({@link RopeRerotation}).
 * With the original-position rule nothing changes and this class is not needed. Stateless; the
 * caller's buffers make it allocation-free except for {@link Arrays#sort(long[], int, int)}.
 */
public final class StreamingPositions {

    private StreamingPositions() {
    }

    /**
     * Lists every kept slot with its original and its new position, ordered by original position.
     *
     * @param policy the policy whose live tokens are listed
     * @param scratch a buffer of at least {@code policy.liveTokens()} longs
     * @param slotsOut receives the live slots
     * @param originalOut receives their original positions
     * @param newOut receives their new positions (0, 1, 2, ...)
     * @return the number of live slots
     */
    public static int assign(EvictionPolicy policy, long[] scratch, int[] slotsOut, int[] originalOut, int[] newOut) {
        int live = policy.liveTokens();
        if (scratch.length < live || slotsOut.length < live || originalOut.length < live || newOut.length < live) {
            throw new IllegalArgumentException("buffer lengths: " + scratch.length + ", " + slotsOut.length + ", "
                    + originalOut.length + ", " + newOut.length + " (expected: all >= liveTokens " + live + ")");
        }
        int n = policy.liveSlots(slotsOut);
        for (int i = 0; i < n; i++) {
            scratch[i] = ((long) policy.positionOf(slotsOut[i]) << 32) | (slotsOut[i] & 0xFFFF_FFFFL);
        }
        Arrays.sort(scratch, 0, n);
        for (int i = 0; i < n; i++) {
            slotsOut[i] = (int) scratch[i];
            originalOut[i] = (int) (scratch[i] >>> 32);
            newOut[i] = i;
        }
        return n;
    }
}
