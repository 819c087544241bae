package io.pagedkv.examples.serve;

import io.pagedkv.examples.llama.LlamaDecoder;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Sampler;
import io.pagedkv.examples.llama.Tokenizer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One completion inside the {@link Engine}: its tokens (prompt, then generated), how many of them
 * have K/V in the cache ({@code computed}), the chunk scheduled for the current step, its sampler
 * and text, and the queue of {@link CompletionEvent}s its HTTP handler reads.
 *
 * <p>Threading: the scheduler thread owns every field between steps; during a step exactly one
 * worker runs {@link #runStep()}, and the step hand-off orders its writes before the scheduler's
 * next reads. {@link #cancel()} and {@link #events()} are safe from any thread.
 */
public final class EngineRequest implements StepTask {

    final String id;
    final CompletionRequest request;
    final long arrivalNs;
    final int promptLength;
    /** Prompt then generated tokens; {@code [0, length)} valid. */
    final int[] tokens;
    int length;
    final Sampler sampler;
    final CompletionText text;
    private final BlockingQueue<CompletionEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    // scheduler-owned
    KvSequence kv;
    LlamaDecoder decoder;
    int computed;
    int chunkStart;
    int chunkLen;
    int cachedTokens = -1;
    int preemptions;
    long firstTokenNs;
    int generated;

    // written by the worker during a step, read by the scheduler after it
    int sampled = -1;
    /** Whether the sampled token joined the completion (a final end-of-text token does not). */
    boolean kept;
    String finishReason;
    RuntimeException failure;

    EngineRequest(String id, CompletionRequest request, Tokenizer tokenizer, int vocabSize, long arrivalNs) {
        this.id = id;
        this.request = request;
        this.arrivalNs = arrivalNs;
        this.promptLength = request.prompt().length;
        this.tokens = new int[promptLength + request.maxTokens()];
        System.arraycopy(request.prompt(), 0, tokens, 0, promptLength);
        this.length = promptLength;
        this.sampler = new Sampler(vocabSize, request.temperature(), request.topP(), request.seed());
        this.text = new CompletionText(tokenizer, request.prompt()[promptLength - 1], request.stop());
    }

    /** The id of the completion ({@code cmpl-...}). */
    public String id() {
        return id;
    }

    /** The validated request. */
    public CompletionRequest request() {
        return request;
    }

    /** Events for the HTTP side, in order; ends with {@link CompletionEvent.Finished} or {@link CompletionEvent.Failed}. */
    public BlockingQueue<CompletionEvent> events() {
        return events;
    }

    /** Asks the engine to drop this completion (the client went away); it frees what it holds at the next step. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** Attaches an admitted sequence: the tokens before {@code kv.cachedTokens()} need no computing. */
    void attach(KvSequence kv, LlamaWeights weights) {
        this.kv = kv;
        this.decoder = new LlamaDecoder(weights, kv.store());
        this.computed = kv.cachedTokens();
        if (cachedTokens < 0) {
            cachedTokens = kv.cachedTokens();
        }
    }

    /** Drops the sequence (preemption): everything is recomputed on re-admission. */
    void detach() {
        this.kv = null;
        this.decoder = null;
        this.computed = 0;
    }

    /** Tokens still to compute before the next token can be sampled. */
    int pending() {
        return length - computed;
    }

    /**
     * The worker's part of a step: runs the scheduled chunk through the decoder and, when the chunk
     * reaches the last token, samples the next one and decides whether the completion ends.
     */
    @Override
    public void runStep() {
        sampled = -1;
        kept = false;
        try {
            // as pagedkv generate: prompt tokens go through prefill (a one-token prompt through forward),
            // generated ones through forward; both give the same K/V and logits bit for bit, but an
            // eviction policy sees attention weights from forward only
            boolean decode = chunkLen == 1 && (chunkStart >= promptLength || promptLength == 1);
            float[] logits = decode ? decoder.forward(tokens[chunkStart]) : decoder.prefill(tokens, chunkStart, chunkLen);
            if (chunkStart + chunkLen == length) {
                accept(sampler.sample(logits));
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private void accept(int next) {
        sampled = next;
        if (next == Tokenizer.BOS && !request.ignoreEos()) {
            finishReason = "stop"; // llama2.c's end of text, as pagedkv generate stops
            return;
        }
        tokens[length++] = next;
        generated++;
        kept = true;
        if (text.add(next)) {
            finishReason = "stop";
        } else if (generated >= request.maxTokens()) {
            finishReason = "length";
        }
    }
}
