package io.pagedkv.testkit;

/**
 * The result of running one case: the generated value, how to show it, and the failure (null when
 * the case passed).
 */
record Outcome(Object value, String shown, Throwable failure) {
    boolean failed() {
        return failure != null;
    }
}
