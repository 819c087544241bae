package io.pagedkv.benchmarks.fragmentation;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The fragmentation benchmark's secondary results: plain counts that JMH sums over invocations and
 * iterations. Never a ratio here (a summed ratio means nothing): ratios such as waste are computed
 * afterwards from these sums by {@link FragmentationResults}.
 *
 * <p>Byte counters are byte-steps: bytes at each scheduler step summed over the replay's steps (the
 * time integral of memory). Confined to one benchmark thread.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class FragmentationCounters {

    /** Whole traces replayed. */
    public long replays;
    /** Scheduler steps. */
    public long steps;
    /** Requests finished. */
    public long finishedRequests;
    /** Byte-steps of KV memory holding live tokens. */
    public long liveTokenByteSteps;
    /** Byte-steps of KV memory held by requests (allocated blocks or reserved regions). */
    public long reservedByteSteps;
    /** Byte-steps held but holding no token (reserved ahead, unfilled block tails). */
    public long internalFragmentationByteSteps;
    /** Byte-steps free but unusable: the waiting request was refused although the free total would hold it. */
    public long externalFragmentationByteSteps;
    /** Peak concurrent requests of each replay, summed over replays. */
    public long peakConcurrency;
    /** Running requests summed over steps. */
    public long concurrencySteps;
    /** Steps at which the head of the queue was refused admission. */
    public long rejectedAdmissions;
    /** Waiting requests summed over steps. */
    public long queuedRequestSteps;
    /** Requests preempted because memory ran dry. */
    public long preemptions;

    /** Counters start at zero for every iteration. */
    @Setup(Level.Iteration)
    public void reset() {
        replays = 0;
        steps = 0;
        finishedRequests = 0;
        liveTokenByteSteps = 0;
        reservedByteSteps = 0;
        internalFragmentationByteSteps = 0;
        externalFragmentationByteSteps = 0;
        peakConcurrency = 0;
        concurrencySteps = 0;
        rejectedAdmissions = 0;
        queuedRequestSteps = 0;
        preemptions = 0;
    }
}
