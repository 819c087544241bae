package io.pagedkv.workload;

import java.util.List;

/**
 * A generated, reproducible list of requests: the same workload, count and seed always give the same
 * trace.
 *
 * <p>Invariant: every request fits the trace's context ({@code prompt + maxOutput <= maxContext}).
 * Immutable and thread-safe.
 *
 * @param workload the workload that generated it
 * @param seed the seed it was generated from
 * @param maxContext the model context the trace respects, in tokens (what a contiguous max-length
 *     allocator reserves per request)
 * @param requests the requests in arrival order, {@code requests.get(i).id() == i}
 */
public record Trace(Workload workload, long seed, int maxContext, List<TraceRequest> requests) {

    /** Copies the list and checks the invariants above. */
    public Trace {
        requests = List.copyOf(requests);
        for (int i = 0; i < requests.size(); i++) {
            TraceRequest r = requests.get(i);
            if (r.id() != i) {
                throw new IllegalArgumentException("request id: " + r.id() + " at position " + i + " (expected: " + i + ")");
            }
            if (r.reservedTokens() > maxContext) {
                throw new IllegalArgumentException("request " + i + " reserves " + r.reservedTokens()
                        + " tokens (expected: <= maxContext " + maxContext + ")");
            }
        }
    }

    /** Number of requests. */
    public int size() {
        return requests.size();
    }

    /** Mean prompt length in tokens (0 for an empty trace). */
    public double meanPromptTokens() {
        long sum = 0;
        for (TraceRequest r : requests) {
            sum += r.promptTokens();
        }
        return requests.isEmpty() ? 0 : (double) sum / requests.size();
    }

    /** Mean output length in tokens (0 for an empty trace). */
    public double meanOutputTokens() {
        long sum = 0;
        for (TraceRequest r : requests) {
            sum += r.outputTokens();
        }
        return requests.isEmpty() ? 0 : (double) sum / requests.size();
    }

    /** Total prompt tokens of all requests. */
    public long totalPromptTokens() {
        long sum = 0;
        for (TraceRequest r : requests) {
            sum += r.promptTokens();
        }
        return sum;
    }

    /** Share of all prompt tokens that repeat an earlier request's tokens (0 for chat traces). */
    public double sharedPrefixShare() {
        long shared = 0;
        for (TraceRequest r : requests) {
            shared += r.sharedPrefixTokens();
        }
        long total = totalPromptTokens();
        return total == 0 ? 0 : (double) shared / total;
    }
}
