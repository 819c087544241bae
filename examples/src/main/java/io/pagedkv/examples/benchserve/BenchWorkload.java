package io.pagedkv.examples.benchserve;

import io.pagedkv.workload.Trace;
import io.pagedkv.workload.TraceRequest;
import io.pagedkv.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds the requests of a benchmark run from a seeded trace ({@link Workload}): lengths are
 * scaled by {@code context / trace context} so that the trace's shape fits a small model's context
 * (ShareGPT's 2048-token context onto 128 or 512 tokens), prompts are BOS then random ids of the
 * byte-fallback range {@code 3..258} (valid in every llama2.c vocabulary), and send times follow a
 * Poisson process of {@code rate} requests per second (exponential gaps; an infinite rate sends
 * everything at once), as vLLM's {@code benchmark_serving} does. Deterministic for a seed. Stateless.
 */
public final class BenchWorkload {

    /** First token id used in prompts (after BOS). */
    public static final int FIRST_ID = 3;
    /** Token ids in prompts are below this (the byte-fallback tokens of llama2.c tokenizers). */
    public static final int END_ID = 259;

    private BenchWorkload() {
    }

    /**
     * The requests of a run.
     *
     * @param context the server's context length; every prompt + output fits in it
     * @param rate requests per second, {@code > 0}; {@link Double#POSITIVE_INFINITY} sends all at once
     * @throws IllegalArgumentException if {@code requests < 1}, {@code context < 2} or {@code rate <= 0}
     */
    public static List<BenchRequest> build(Workload workload, int requests, long seed, int context, double rate) {
        if (requests < 1) {
            throw new IllegalArgumentException("requests: " + requests + " (expected: >= 1)");
        }
        if (context < 2) {
            throw new IllegalArgumentException("context: " + context + " (expected: >= 2)");
        }
        if (!(rate > 0)) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: > 0 requests/s, or inf)");
        }
        Trace trace = workload.generate(requests, seed);
        double scale = Math.min(1.0, context / (double) trace.maxContext());
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        List<BenchRequest> out = new ArrayList<>(requests);
        double t = 0;
        for (TraceRequest tr : trace.requests()) {
            int prompt = (int) Math.max(2, Math.round(tr.promptTokens() * scale));
            int output = (int) Math.max(1, Math.round(tr.outputTokens() * scale));
            prompt = Math.min(prompt, context - 1);
            output = Math.min(output, context - prompt);
            int[] ids = new int[prompt];
            ids[0] = 1;
            for (int i = 1; i < prompt; i++) {
                ids[i] = FIRST_ID + rnd.nextInt(END_ID - FIRST_ID);
            }
            out.add(new BenchRequest(out.size(), ids, output, (long) (t * 1e9)));
            if (Double.isFinite(rate)) {
                t += -Math.log(1.0 - rnd.nextDouble()) / rate;
            }
        }
        return out;
    }

    /** The factor trace lengths are multiplied by for {@code context}. */
    public static double scale(Workload workload, int context) {
        return Math.min(1.0, context / (double) workload.defaultMaxContext());
    }
}
