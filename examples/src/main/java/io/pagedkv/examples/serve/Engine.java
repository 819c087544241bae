package io.pagedkv.examples.serve;

import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The continuous-batching engine: one scheduler thread plans a step at a time, worker threads run
 * the decoder math of the step's sequences in parallel, then the scheduler commits, emits tokens
 * and retires finished requests. All cache bookkeeping goes through a {@link KvBackend}.
 *
 * <h2>A step</h2>
 * <ol>
 *   <li>New requests join the waiting queue; cancelled ones (their client went away) are dropped
 *       and their sequences released.</li>
 *   <li>Running sequences, oldest first, get their next chunk within the step's token budget
 *       ({@link EngineLimits#maxBatchedTokens()}): one token when decoding, a prefill chunk
 *       otherwise. If the backend cannot reserve it, the youngest running sequence is preempted
 *       ({@link KvBackend#preempt}: put back at the head of the queue, to be recomputed; its written prefix
 *       stays cached, so re-admission mostly hits the cache) and the reservation is retried.</li>
 *   <li>If nothing was preempted, waiting requests are admitted in order while the backend says
 *       they fit, each with its first chunk.</li>
 *   <li>The backend plans the step ({@link KvBackend#planStep()}: for the paged cache, the step API's
 *       slot mapping and block tables); workers run every chunk, writing K/V through the plan and
 *       attending through its block tables; a chunk that reaches the last token samples the next one.</li>
 *   <li>The backend completes the step ({@link KvBackend#completeStep()}: full written blocks go to
 *       the prefix cache); the scheduler emits the new tokens and releases finished requests.</li>
 * </ol>
 * A request's computation never depends on the others: a prefill chunk gives the same K/V and
 * logits as token-by-token decoding (see {@link io.pagedkv.examples.llama.LlamaDecoder#prefill(int[], int, int)}),
 * so at temperature 0 a completion is the same whatever runs beside it, however it was chunked,
 * prefix-cached or preempted.
 *
 * <h2>Threading</h2>
 * {@link #submit}, {@link EngineRequest#cancel()}, the counters and {@link #close()} are safe from
 * any thread; everything else runs on the scheduler thread.
 */
public final class Engine implements AutoCloseable {

    private final LlamaWeights weights;
    private final Tokenizer tokenizer;
    private final KvBackend kv;
    private final EngineLimits limits;
    private final EngineListener listener;
    private final StepWorkers workers;
    private final Queue<EngineRequest> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong preemptions = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final Thread scheduler;
    private volatile boolean stopping;
    private volatile int runningCount;

    // scheduler-owned
    private final ArrayDeque<EngineRequest> waiting = new ArrayDeque<>();
    private final List<EngineRequest> running = new ArrayList<>();
    private EngineRequest[] scheduled = new EngineRequest[16];

    /**
     * An engine for {@code weights} over {@code kv}; call {@link #start()}.
     *
     * @param tokenizer decodes text; null when the model is served with token ids only
     * @param listener told about tokens, finishes and preemptions (metrics); not null
     */
    public Engine(LlamaWeights weights, Tokenizer tokenizer, KvBackend kv, EngineLimits limits, EngineListener listener) {
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.kv = kv;
        this.limits = limits;
        this.listener = listener;
        this.workers = new StepWorkers(limits.workers());
        this.scheduler = new Thread(this::loop, "pagedkv-scheduler");
        this.scheduler.setDaemon(true);
    }

    /** Starts the scheduler thread. */
    public void start() {
        scheduler.start();
    }

    /**
     * Queues a validated request.
     *
     * @return the request's handle: read its {@link EngineRequest#events()}
     * @throws ApiException 429 when {@link EngineLimits#maxWaiting()} requests already wait, 503 when stopping
     */
    public EngineRequest submit(CompletionRequest request) {
        if (stopping) {
            throw new ApiException(503, ApiException.SERVER_ERROR, null, "server_shutting_down", "server: shutting down");
        }
        if (queued.incrementAndGet() > limits.maxWaiting()) {
            queued.decrementAndGet();
            throw new ApiException(429, ApiException.RATE_LIMIT, null, "rate_limit_exceeded",
                    "queue: " + limits.maxWaiting() + " requests already wait (expected: fewer; retry later)");
        }
        EngineRequest r = new EngineRequest("cmpl-" + Long.toHexString(ids.incrementAndGet()), request, tokenizer,
                weights.config().vocabSize(), System.nanoTime());
        incoming.add(r);
        LockSupport.unpark(scheduler);
        return r;
    }

    /** Wakes the scheduler (after a cancel, so it frees the request's memory promptly). */
    public void wake() {
        LockSupport.unpark(scheduler);
    }

    /** Requests waiting for admission (queued or preempted). */
    public int waitingCount() {
        return queued.get();
    }

    /** Requests running (admitted, holding K/V). */
    public int runningCount() {
        return runningCount;
    }

    /** Preemptions since start. */
    public long preemptions() {
        return preemptions.get();
    }

    /** Steps run since start. */
    public long steps() {
        return steps.get();
    }

    /** The cache-facing bookkeeping. */
    public KvBackend kv() {
        return kv;
    }

    /** The limits. */
    public EngineLimits limits() {
        return limits;
    }

    private void loop() {
        try {
            while (!stopping) {
                drainIncoming();
                reapCancelled();
                if (running.isEmpty() && waiting.isEmpty()) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
                    continue;
                }
                int n = schedule();
                runningCount = running.size();
                if (n == 0) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
                    continue;
                }
                kv.planStep();
                workers.run(scheduled, n);
                kv.completeStep();
                finishStep(n);
                runningCount = running.size();
                steps.incrementAndGet();
            }
        } catch (Throwable t) {
            failAll(new ApiException(500, ApiException.SERVER_ERROR, null, null, "engine: " + t));
            throw t;
        } finally {
            drainIncoming();
            failAll(new ApiException(503, ApiException.SERVER_ERROR, null, "server_shutting_down", "server: shutting down"));
        }
    }

    private void drainIncoming() {
        EngineRequest r;
        while ((r = incoming.poll()) != null) {
            waiting.addLast(r);
        }
    }

    private void reapCancelled() {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            EngineRequest r = it.next();
            if (r.cancelled()) {
                it.remove();
                queued.decrementAndGet();
                listener.onCancelled(r);
            }
        }
        for (int i = running.size() - 1; i >= 0; i--) {
            EngineRequest r = running.get(i);
            if (r.cancelled()) {
                running.remove(i);
                kv.release(r.kv);
                r.detach();
                listener.onCancelled(r);
            }
        }
    }

    /** Plans the step; returns the number of requests in {@link #scheduled}. */
    private int schedule() {
        int budget = limits.maxBatchedTokens();
        int n = 0;
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; i++) {
            EngineRequest r = running.get(i);
            int want = Math.min(r.pending(), budget);
            boolean self = false;
            while (!kv.reserve(r.kv, r.tokens, r.computed, want)) {
                EngineRequest victim = running.removeLast();
                preempt(victim);
                preempted = true;
                if (victim == r) {
                    self = true;
                    break;
                }
            }
            if (self) {
                break;
            }
            n = add(n, r, want);
            budget -= want;
        }
        while (!preempted && budget > 0 && running.size() < limits.maxRunning() && !waiting.isEmpty()) {
            EngineRequest r = waiting.peekFirst();
            KvSequence s = kv.admit(r.tokens, r.length, !running.isEmpty());
            if (s == null) {
                break;
            }
            waiting.pollFirst();
            queued.decrementAndGet();
            r.attach(s, weights);
            int want = Math.min(r.pending(), budget);
            if (!kv.reserve(s, r.tokens, r.computed, want)) {
                // admit promised room for the whole prompt; a refusal here is a backend bug
                kv.release(s);
                r.detach();
                throw new IllegalStateException("reserve: " + want + " tokens refused right after admission");
            }
            running.add(r);
            listener.onAdmitted(r);
            n = add(n, r, want);
            budget -= want;
        }
        return n;
    }

    private int add(int n, EngineRequest r, int want) {
        if (n == scheduled.length) {
            scheduled = java.util.Arrays.copyOf(scheduled, n * 2);
        }
        r.chunkStart = r.computed;
        r.chunkLen = want;
        r.finishReason = null;
        r.failure = null;
        scheduled[n] = r;
        return n + 1;
    }

    private void preempt(EngineRequest victim) {
        kv.preempt(victim.kv);
        victim.detach();
        victim.preemptions++;
        preemptions.incrementAndGet();
        waiting.addFirst(victim);
        queued.incrementAndGet();
        listener.onPreempted(victim);
    }

    private void finishStep(int n) {
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            EngineRequest r = scheduled[i];
            scheduled[i] = null;
            if (r.failure != null) {
                running.remove(r);
                kv.release(r.kv);
                r.detach();
                r.events().add(new CompletionEvent.Failed(new ApiException(500, ApiException.SERVER_ERROR, null, null,
                        "engine: " + r.failure)));
                listener.onFailed(r);
                continue;
            }
            r.computed += r.chunkLen;
            if (r.sampled < 0) {
                continue; // a prefill chunk that did not reach the end of the prompt
            }
            if (r.firstTokenNs == 0) {
                r.firstTokenNs = now;
            }
            if (r.kept) {
                r.events().add(new CompletionEvent.Token(r.sampled, r.text.takeDelta()));
                listener.onToken(r, now);
            }
            if (r.finishReason == null) {
                continue;
            }
            running.remove(r);
            kv.release(r.kv);
            r.detach();
            r.text.finish();
            CompletionEvent.Usage usage = new CompletionEvent.Usage(r.promptLength, r.generated, Math.max(0, r.cachedTokens));
            r.events().add(new CompletionEvent.Finished(r.finishReason, r.text.takeRest(), usage));
            listener.onFinished(r, now);
        }
    }

    private void failAll(ApiException e) {
        kv.completeStep(); // a step interrupted by an error: end it before releasing its sequences
        for (EngineRequest r : running) {
            if (r.kv != null) {
                kv.release(r.kv);
                r.detach();
            }
            r.events().add(new CompletionEvent.Failed(e));
        }
        running.clear();
        for (EngineRequest r : waiting) {
            r.events().add(new CompletionEvent.Failed(e));
            queued.decrementAndGet();
        }
        waiting.clear();
        runningCount = 0;
    }

    /** Stops the scheduler (pending requests fail with 503, their memory is released) and the workers. */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(scheduler);
        if (scheduler.isAlive()) {
            try {
                scheduler.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.close();
    }
}
