package io.pagedkv.testkit;

/**
 * Thrown when a generated case must be thrown away rather than judged: a filter that rejected too
 * many values in a row, a failed {@link Property#assume(boolean)}, or a choice sequence that grew
 * past {@link Choices#MAX_DRAWS}. The runner counts discards and never reports them as failures.
 */
final class Discard extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Discard(String reason) {
        super(reason, null, false, false);
    }
}
