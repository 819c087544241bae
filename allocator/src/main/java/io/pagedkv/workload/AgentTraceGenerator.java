package io.pagedkv.workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multi-turn agent traces with token ids: every session starts with the same system prompt and tool
 * definitions, and every turn re-sends the session's whole history, so a prefix cache can reuse both.
 *
 * <p>Generation, from {@code new SplittableRandom(seed)}:
 * <ol>
 *   <li>the shared prefix: {@code systemPromptTokens + toolTokens} token ids uniform in {@code [0,
 *       vocabulary)}, identical for all sessions;
 *   <li>sessions, until they hold at least the requested number of turns: a turn count uniform in
 *       {@code [minTurns, maxTurns]}; each turn appends a user message (tool results included) of
 *       {@link #userMessage()} tokens to the history and sends the history as its prompt, then
 *       generates {@link #output()} tokens, which join the history; a session ends early when the
 *       next turn could exceed {@code maxContext} with its declared max output;
 *   <li>requests are ordered round-robin by turn (every session's turn 0, then every turn 1, ...)
 *       and the first {@code requests} kept.
 * </ol>
 *
 * <p>The shared prefix of a request ({@link TraceRequest#sharedPrefixTokens()}) is the system prompt
 * and tools for a first turn (except the very first request), and the previous turn's prompt and
 * output for later turns. Immutable and thread-safe.
 *
 * @param systemPromptTokens length of the shared system prompt
 * @param toolTokens length of the shared tool definitions following it
 * @param userMessage length of each turn's new user message or tool result
 * @param output length of each turn's output; its cap is the declared max output
 * @param minTurns fewest turns of a session
 * @param maxTurns most turns of a session
 * @param maxContext the context every request fits into
 * @param vocabulary token ids are drawn from {@code [0, vocabulary)}
 */
public record AgentTraceGenerator(int systemPromptTokens, int toolTokens, ClampedLogNormal userMessage,
        ClampedLogNormal output, int minTurns, int maxTurns, int maxContext, int vocabulary) {

    /**
     * The default agent: 1024-token system prompt, 1024 tokens of tool definitions, user messages mean
     * 120 (sigma 0.9, cap 1024), outputs mean 180 (sigma 0.7, cap 512), 2 to 10 turns, an 8192 context,
     * a 32000-token vocabulary.
     */
    public static final AgentTraceGenerator DEFAULT = new AgentTraceGenerator(1024, 1024,
            ClampedLogNormal.fitted(120, 0.9, 1024), ClampedLogNormal.fitted(180, 0.7, 512), 2, 10, 8192, 32000);

    /** Validates that a first turn always fits and the counts are sane. */
    public AgentTraceGenerator {
        if (systemPromptTokens < 1 || toolTokens < 0) {
            throw new IllegalArgumentException("systemPromptTokens: " + systemPromptTokens + ", toolTokens: "
                    + toolTokens + " (expected: >= 1 and >= 0)");
        }
        if (minTurns < 1 || maxTurns < minTurns) {
            throw new IllegalArgumentException("turns: [" + minTurns + ", " + maxTurns + "] (expected: 1 <= min <= max)");
        }
        int first = systemPromptTokens + toolTokens + userMessage.cap() + output.cap();
        if (first > maxContext) {
            throw new IllegalArgumentException("a first turn may need " + first + " tokens (expected: <= maxContext "
                    + maxContext + ")");
        }
        if (vocabulary < 2) {
            throw new IllegalArgumentException("vocabulary: " + vocabulary + " (expected: >= 2)");
        }
    }

    /** Tokens every session starts with: system prompt plus tool definitions. */
    public int sharedPrefixTokens() {
        return systemPromptTokens + toolTokens;
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
        int prefix = sharedPrefixTokens();
        int[] shared = new int[prefix];
        for (int i = 0; i < prefix; i++) {
            shared[i] = random.nextInt(vocabulary);
        }
        List<int[][]> sessions = new ArrayList<>(); // per session: {transcript}, {prompt per turn}, {output per turn}
        int turnsSoFar = 0;
        int longest = 0;
        while (turnsSoFar < requests) {
            int turns = minTurns + random.nextInt(maxTurns - minTurns + 1);
            int[] transcript = Arrays.copyOf(shared, maxContext);
            int length = prefix;
            int[] prompts = new int[turns];
            int[] outputs = new int[turns];
            int made = 0;
            for (int t = 0; t < turns; t++) {
                int user = userMessage.sample(random);
                int out = output.sample(random);
                if (length + user + output.cap() > maxContext) {
                    break;
                }
                for (int i = 0; i < user + out; i++) {
                    transcript[length + i] = random.nextInt(vocabulary);
                }
                prompts[t] = length + user;
                outputs[t] = out;
                length += user + out;
                made++;
            }
            sessions.add(new int[][] {Arrays.copyOf(transcript, length), Arrays.copyOf(prompts, made),
                Arrays.copyOf(outputs, made)});
            turnsSoFar += made;
            longest = Math.max(longest, made);
        }
        List<TraceRequest> list = new ArrayList<>(requests);
        for (int t = 0; t < longest && list.size() < requests; t++) {
            for (int s = 0; s < sessions.size() && list.size() < requests; s++) {
                int[][] session = sessions.get(s);
                if (t >= session[1].length) {
                    continue;
                }
                int id = list.size();
                int sharedTokens = t == 0 ? (id == 0 ? 0 : prefix) : session[1][t - 1] + session[2][t - 1];
                list.add(new TraceRequest(id, s, t, session[1][t], session[2][t], output.cap(), sharedTokens, session[0]));
            }
        }
        return new Trace(Workload.AGENT, seed, maxContext, list);
    }
}
