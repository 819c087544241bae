package io.pagedkv.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Single-turn chat traces: independent prompt and output lengths, each a {@link ClampedLogNormal}.
 *
 * <p>The two presets follow the request statistics the PagedAttention paper (Kwon et al., SOSP 2023,
 * section 6.1) reports for its workloads:
 *
 * <table>
 *   <caption>Presets</caption>
 *   <tr><th>preset</th><th>prompt mean / sigma / cap</th><th>output mean / sigma / cap (= max_tokens)</th><th>context</th></tr>
 *   <tr><td>{@link #SHAREGPT}</td><td>161 / 1.0 / 1024</td><td>338 / 0.9 / 1024</td><td>2048</td></tr>
 *   <tr><td>{@link #ALPACA}</td><td>19 / 0.6 / 256</td><td>58 / 0.8 / 256</td><td>512</td></tr>
 * </table>
 *
 * <p>ShareGPT's lengths are long-tailed (a few conversations run to the cap), Alpaca's short and
 * tight. Every request declares the output cap as its {@code max_tokens}. Request {@code i} is drawn
 * from {@code new SplittableRandom(seed)} in order: prompt then output. Immutable and thread-safe.
 *
 * @param workload the workload this preset generates
 * @param prompt the prompt length distribution
 * @param output the output length distribution; its cap is each request's declared max output
 * @param maxContext the context the requests fit into ({@code >= prompt cap + output cap})
 */
public record ChatTraceGenerator(Workload workload, ClampedLogNormal prompt, ClampedLogNormal output, int maxContext) {

    /** ShareGPT-like: prompts mean 161, outputs mean 338, long-tailed, in a 2048-token context. */
    public static final ChatTraceGenerator SHAREGPT = new ChatTraceGenerator(Workload.SHAREGPT,
            ClampedLogNormal.fitted(161, 1.0, 1024), ClampedLogNormal.fitted(338, 0.9, 1024), 2048);

    /** Alpaca-like: prompts mean 19, outputs mean 58, in a 512-token context. */
    public static final ChatTraceGenerator ALPACA = new ChatTraceGenerator(Workload.ALPACA,
            ClampedLogNormal.fitted(19, 0.6, 256), ClampedLogNormal.fitted(58, 0.8, 256), 512);

    /** Checks that the caps fit the context. */
    public ChatTraceGenerator {
        if (prompt.cap() + output.cap() > maxContext) {
            throw new IllegalArgumentException("prompt cap " + prompt.cap() + " + output cap " + output.cap()
                    + " (expected: <= maxContext " + maxContext + ")");
        }
    }

    /**
     * {@code requests} requests drawn from {@code seed}.
     *
     * @throws IllegalArgumentException if {@code requests} is negative
     */
    public Trace generate(int requests, long seed) {
        if (requests < 0) {
            throw new IllegalArgumentException("requests: " + requests + " (expected: >= 0)");
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<TraceRequest> list = new ArrayList<>(requests);
        for (int i = 0; i < requests; i++) {
            int p = prompt.sample(random);
            int o = output.sample(random);
            list.add(new TraceRequest(i, i, 0, p, o, output.cap(), 0, null));
        }
        return new Trace(workload, seed, maxContext, list);
    }
}
