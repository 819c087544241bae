package io.pagedkv.examples.simulate;

import io.pagedkv.workload.TraceRequest;

/**
 * The scheduler's mutable view of one trace request: how far it got and what its strategy holds.
 *
 * <p>{@link #cachedTokens()} is the request's length in the cache: prompt plus generated tokens once
 * admitted, 0 while waiting (an eviction policy may keep fewer of them; the strategy knows how many). A preempted request keeps its generated count and
 * is prefilled again (recomputed) when re-admitted, as vLLM's recompute preemption does. Confined to
 * the scheduler thread.
 */
public final class SimRequest {

    private final TraceRequest trace;
    private int generated;
    private int cachedTokens;
    private long admittedStep = -1;
    /** Whatever the strategy keeps for this request while admitted (an offset, a sequence). */
    Object allocation;
    /** A number the strategy keeps for this request while admitted (an offset in bytes). */
    long allocationOffset = -1;

    /** A waiting request for {@code trace}. */
    public SimRequest(TraceRequest trace) {
        this.trace = trace;
    }

    /** The trace request. */
    public TraceRequest trace() {
        return trace;
    }

    /** Output tokens generated so far (kept across preemptions). */
    public int generated() {
        return generated;
    }

    /** The request's length in the cache: 0 while waiting, prompt + generated while running. */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Tokens a (re-)admission must prefill: the prompt plus everything generated so far. */
    public int tokensToPrefill() {
        return trace.promptTokens() + generated;
    }

    /** The step of the latest admission, or -1 while never admitted. */
    public long admittedStep() {
        return admittedStep;
    }

    /** Whether the request has generated its whole output. */
    public boolean isDone() {
        return generated >= trace.outputTokens();
    }

    void admitted(long step) {
        admittedStep = step;
        cachedTokens = tokensToPrefill();
    }

    void generatedOne() {
        generated++;
        cachedTokens++;
    }

    void released() {
        cachedTokens = 0;
        allocation = null;
        allocationOffset = -1;
    }

    @Override
    public String toString() {
        return "SimRequest[" + trace.id() + ", generated " + generated + "/" + trace.outputTokens() + "]";
    }
}
