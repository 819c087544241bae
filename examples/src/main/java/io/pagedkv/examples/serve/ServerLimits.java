package io.pagedkv.examples.serve;

/**
 * The HTTP side's safety limits, validated.
 *
 * @param maxBodyBytes largest request body read; a larger one is refused with 413 before it is read
 * @param maxStreams most streaming completions open at once; more are refused with 429
 */
public record ServerLimits(int maxBodyBytes, int maxStreams) {

    /** Default body limit: 1 MiB. */
    public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

    /** Validates every limit. */
    public ServerLimits {
        if (maxBodyBytes < 64) {
            throw new IllegalArgumentException("max body bytes: " + maxBodyBytes + " (expected: >= 64)");
        }
        if (maxStreams < 1) {
            throw new IllegalArgumentException("max streams: " + maxStreams + " (expected: >= 1)");
        }
    }
}
