package io.pagedkv.examples.simulate;

import io.pagedkv.workload.Trace;
import io.pagedkv.workload.TraceRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A continuous-batching scheduler, as vLLM runs one, replaying a trace over one allocation strategy.
 *
 * <p>Every request of the trace is waiting at step 0 (an offline batch: the memory wall, not the
 * arrival process, limits concurrency); a later turn of an agent session waits until the previous
 * turn finished. Each step:
 * <ol>
 *   <li><b>admit</b> waiting requests first-come first-served while the strategy finds room and
 *       fewer than {@code maxRunning} run (vLLM's {@code max_num_seqs}, 256 by default), prefilling
 *       the prompt, or prompt plus generated tokens after a preemption; stop at the first refusal so
 *       nobody overtakes the head of the queue;
 *   <li><b>decode</b> one token for every running request, oldest first; when the strategy runs dry,
 *       <b>preempt</b> the youngest running request (free its memory, put it back at the head of the
 *       queue to be recomputed) and retry;
 *   <li><b>sample</b> the step's figures;
 *   <li><b>finish</b> requests that reached their output length, freeing their memory and releasing
 *       their session's next turn.
 * </ol>
 *
 * <p>With a prefill budget ({@code prefillTokensPerStep > 0}) prefill costs step time: each step
 * computes at most that many prompt tokens, and a request is admitted only once the tokens of earlier
 * admissions have been computed (a request's tokens served from the prefix cache cost nothing). The
 * admitted request runs at once, as if its prefill had been chunked into the steps before; without a
 * budget (the default) prefill is free and memory alone limits concurrency.
 *
 * <p>Per-token work allocates nothing in the scheduler itself. Not thread-safe: one run per instance.
 */
public final class ServingSimulator {

    /** Receives progress every few steps, e.g. for a terminal progress bar. */
    @FunctionalInterface
    public interface Progress {
        /** No progress output. */
        Progress NONE = (finished, total, step) -> { };

        /** {@code finished} of {@code total} requests are done after {@code step} steps. */
        void update(int finished, int total, long step);
    }

    /** Default cap on running requests, as vLLM's {@code max_num_seqs}. */
    public static final int DEFAULT_MAX_RUNNING = 256;
    private static final int PROGRESS_EVERY_STEPS = 64;

    private final Trace trace;
    private final KvAllocationStrategy strategy;
    private final Progress progress;
    private final int maxRunning;
    private final int prefillTokensPerStep;

    /** A simulation of {@code trace} over {@code strategy} with at most {@value #DEFAULT_MAX_RUNNING} running. */
    public ServingSimulator(Trace trace, KvAllocationStrategy strategy, Progress progress) {
        this(trace, strategy, progress, DEFAULT_MAX_RUNNING);
    }

    /** A simulation of {@code trace} over {@code strategy} with at most {@code maxRunning} requests running. */
    public ServingSimulator(Trace trace, KvAllocationStrategy strategy, Progress progress, int maxRunning) {
        this(trace, strategy, progress, maxRunning, 0);
    }

    /**
     * A simulation with at most {@code maxRunning} requests running and at most
     * {@code prefillTokensPerStep} prompt tokens computed per step (0: prefill is free).
     */
    public ServingSimulator(Trace trace, KvAllocationStrategy strategy, Progress progress, int maxRunning,
            int prefillTokensPerStep) {
        if (maxRunning < 1) {
            throw new IllegalArgumentException("maxRunning: " + maxRunning + " (expected: >= 1)");
        }
        if (prefillTokensPerStep < 0) {
            throw new IllegalArgumentException("prefillTokensPerStep: " + prefillTokensPerStep + " (expected: >= 0)");
        }
        this.prefillTokensPerStep = prefillTokensPerStep;
        this.trace = trace;
        this.strategy = strategy;
        this.progress = progress;
        this.maxRunning = maxRunning;
    }

    /**
     * Runs the trace to completion and checks that the strategy is drained at the end.
     *
     * @throws IllegalArgumentException when a request cannot fit even into empty memory, naming it and
     *     the bytes it needs
     */
    public SimulationResult run() {
        List<TraceRequest> requests = trace.requests();
        int n = requests.size();
        int[] nextTurn = nextTurns(requests);
        SimRequest[] all = new SimRequest[n];
        ArrayDeque<SimRequest> waiting = new ArrayDeque<>();
        for (int i = 0; i < n; i++) {
            all[i] = new SimRequest(requests.get(i));
            if (requests.get(i).turn() == 0) {
                waiting.addLast(all[i]);
            }
        }
        ArrayList<SimRequest> running = new ArrayList<>();
        TimeSeries series = new TimeSeries();
        long capacity = strategy.capacityBytes();
        long bytesPerLiveToken = strategy.bytesPerToken();
        int finished = 0;
        long step = 0;
        long preemptions = 0;
        long promptTokens = 0;
        long hitTokens = 0;
        int peakConcurrency = 0;
        long peakLiveBytes = 0;
        double sumRunning = 0;
        double sumLive = 0;
        double sumReserved = 0;
        double sumExternal = 0;
        long refusals = 0;
        long queuedSteps = 0;
        long prefillCarry = 0; // prompt tokens admitted in earlier steps and not computed yet
        while (finished < n) {
            // 1. admit, while the step's prefill budget lasts (after earlier admissions' leftover tokens)
            long budgetLeft = Long.MAX_VALUE;
            if (prefillTokensPerStep > 0) {
                budgetLeft = prefillTokensPerStep - prefillCarry;
                prefillCarry = Math.max(0, -budgetLeft);
                budgetLeft = Math.max(0, budgetLeft);
            }
            while (!waiting.isEmpty() && running.size() < maxRunning && budgetLeft > 0) {
                SimRequest head = waiting.peekFirst();
                int hits = strategy.admit(head);
                if (hits == KvAllocationStrategy.NO_ROOM) {
                    refusals++;
                    break;
                }
                waiting.pollFirst();
                head.admitted(step);
                running.add(head);
                promptTokens += head.tokensToPrefill();
                hitTokens += hits;
                if (prefillTokensPerStep > 0) {
                    long computed = head.tokensToPrefill() - hits;
                    prefillCarry = Math.max(0, computed - budgetLeft);
                    budgetLeft = Math.max(0, budgetLeft - computed);
                }
            }
            if (running.isEmpty() && budgetLeft > 0) {
                SimRequest head = waiting.peekFirst();
                throw new IllegalArgumentException("request " + head.trace().id() + " needs "
                        + strategy.bytesToAdmit(head) + " bytes (expected: <= " + capacity + " bytes of KV memory under "
                        + strategy.name() + ")");
            }
            // 2. decode, preempting the youngest when memory runs dry
            for (int i = 0; i < running.size(); i++) {
                SimRequest r = running.get(i);
                boolean preemptedSelf = false;
                while (!strategy.append(r)) {
                    if (running.size() == 1) {
                        throw new IllegalArgumentException("request " + r.trace().id() + " grows to "
                                + (r.cachedTokens() + 1) + " tokens (expected: to fit alone in " + capacity
                                + " bytes of KV memory under " + strategy.name() + ")");
                    }
                    SimRequest victim = running.removeLast();
                    strategy.release(victim);
                    victim.released();
                    waiting.addFirst(victim);
                    preemptions++;
                    if (victim == r) {
                        preemptedSelf = true;
                        break;
                    }
                }
                if (!preemptedSelf) {
                    r.generatedOne();
                }
            }
            // 3. sample
            long reserved = strategy.reservedBytes();
            long live = strategy.liveTokens(running) * bytesPerLiveToken;
            long external = !waiting.isEmpty() && strategy.refusedByFragmentation(waiting.peekFirst())
                    ? capacity - reserved : 0;
            peakConcurrency = Math.max(peakConcurrency, running.size());
            peakLiveBytes = Math.max(peakLiveBytes, live);
            sumRunning += running.size();
            sumLive += live;
            sumReserved += reserved;
            sumExternal += external;
            queuedSteps += waiting.size();
            series.add(running.size(), live, reserved);
            // 4. finish
            int kept = 0;
            for (int i = 0; i < running.size(); i++) {
                SimRequest r = running.get(i);
                if (r.isDone()) {
                    strategy.release(r);
                    r.released();
                    finished++;
                    int next = nextTurn[r.trace().id()];
                    if (next >= 0) {
                        waiting.addLast(all[next]);
                    }
                } else {
                    running.set(kept++, r);
                }
            }
            while (running.size() > kept) {
                running.removeLast();
            }
            step++;
            if (step % PROGRESS_EVERY_STEPS == 0) {
                progress.update(finished, n, step);
            }
        }
        progress.update(finished, n, step);
        strategy.checkDrained();
        double steps = Math.max(1, step);
        double waste = sumReserved + sumExternal == 0 ? 0 : (sumReserved - sumLive + sumExternal) / (sumReserved + sumExternal);
        return new SimulationResult(strategy.name(), n, finished, step, capacity, peakConcurrency, sumRunning / steps,
                peakLiveBytes, sumLive / steps, sumReserved / steps, (sumReserved - sumLive) / steps, sumExternal / steps,
                waste, preemptions, promptTokens, hitTokens, strategy.tokensEvicted(), refusals, queuedSteps, series);
    }

    /** For each request id, the id of its session's next turn, or -1. */
    private static int[] nextTurns(List<TraceRequest> requests) {
        int[] next = new int[requests.size()];
        Arrays.fill(next, -1);
        int sessions = 0;
        for (TraceRequest r : requests) {
            sessions = Math.max(sessions, r.session() + 1);
        }
        int[] last = new int[sessions];
        Arrays.fill(last, -1);
        for (TraceRequest r : requests) {
            if (last[r.session()] >= 0) {
                next[last[r.session()]] = r.id();
            }
            last[r.session()] = r.id();
        }
        return next;
    }
}
