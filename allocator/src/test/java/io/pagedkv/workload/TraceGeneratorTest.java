package io.pagedkv.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The traces hit their documented means and reproduce from a seed.
 *
 * <p>Tolerance: sample means within 5% of the target over 20,000 requests. With a log-normal of sigma
 * 1.0 (coefficient of variation about 1.3) the standard error of that mean is about 0.9%, so 5% is
 * over five standard errors: a correct generator fails this with negligible probability, a mis-fitted
 * one (say, clamping without refitting, about -3% to -8% here) does not pass by luck.
 */
class TraceGeneratorTest {

    private static final int N = 20_000;
    private static final double TOLERANCE = 0.05;

    @Test
    void shareGptMeansLandWithinFivePercentOf161And338() {
        Trace t = Workload.SHAREGPT.generate(N, 1);
        assertWithin(161, t.meanPromptTokens(), "sharegpt prompt");
        assertWithin(338, t.meanOutputTokens(), "sharegpt output");
    }

    @Test
    void alpacaMeansLandWithinFivePercentOf19And58() {
        Trace t = Workload.ALPACA.generate(N, 2);
        assertWithin(19, t.meanPromptTokens(), "alpaca prompt");
        assertWithin(58, t.meanOutputTokens(), "alpaca output");
    }

    @Test
    void shareGptIsLongTailedAndRespectsTheContext() {
        Trace t = Workload.SHAREGPT.generate(N, 3);
        int[] prompts = new int[N];
        int maxTotal = 0;
        for (TraceRequest r : t.requests()) {
            prompts[r.id()] = r.promptTokens();
            maxTotal = Math.max(maxTotal, r.reservedTokens());
        }
        java.util.Arrays.sort(prompts);
        int median = prompts[N / 2];
        // Long tail: the median sits well below the mean and some prompts run 5x past the mean.
        assertTrue(median < 0.75 * t.meanPromptTokens(), "median " + median + " vs mean " + t.meanPromptTokens());
        assertTrue(prompts[N - 1] > 5 * 161, "longest prompt " + prompts[N - 1]);
        assertTrue(maxTotal <= t.maxContext(), "reserved " + maxTotal + " > context " + t.maxContext());
    }

    @Test
    void fittedLogNormalHasTheTargetClampedMean() {
        ClampedLogNormal d = ClampedLogNormal.fitted(338, 0.9, 1024);
        assertEquals(338, d.mean(), 1e-6);
        // Without refitting, clamping at 1024 would lose mass from the tail.
        double naiveMu = Math.log(338) - 0.9 * 0.9 / 2;
        assertTrue(ClampedLogNormal.clampedMean(naiveMu, 0.9, 1024) < 330);
    }

    @Test
    void theSameSeedReproducesEveryTraceAndAnotherSeedDoesNot() {
        for (Workload w : Workload.values()) {
            Trace a = w.generate(500, 42);
            Trace b = w.generate(500, 42);
            Trace c = w.generate(500, 43);
            assertEquals(lengths(a), lengths(b), w + " seed 42 twice");
            assertNotEquals(lengths(a), lengths(c), w + " seeds 42 and 43");
            assertEquals(500, a.size());
        }
    }

    @Test
    void agentTurnsResendTheirSessionHistoryAndShareTheSystemPrompt() {
        Trace t = Workload.AGENT.generate(2_000, 5);
        AgentTraceGenerator g = AgentTraceGenerator.DEFAULT;
        int[] firstPrefix = null;
        TraceRequest[] lastTurn = new TraceRequest[t.size()];
        for (TraceRequest r : t.requests()) {
            assertTrue(r.hasTokenIds());
            assertTrue(r.reservedTokens() <= t.maxContext());
            if (firstPrefix == null) {
                firstPrefix = new int[g.sharedPrefixTokens()];
                for (int i = 0; i < firstPrefix.length; i++) {
                    firstPrefix[i] = r.tokenId(i);
                }
                assertEquals(0, r.sharedPrefixTokens(), "the very first request has nothing to reuse");
            }
            for (int i = 0; i < firstPrefix.length; i++) {
                if (firstPrefix[i] != r.tokenId(i)) {
                    fail("system prompt token " + i + " of " + r + ": " + r.tokenId(i) + " (expected: " + firstPrefix[i] + ")");
                }
            }
            TraceRequest prev = lastTurn[r.session()];
            if (prev == null) {
                assertEquals(0, r.turn());
            } else {
                assertEquals(prev.turn() + 1, r.turn());
                assertEquals(prev.totalTokens(), r.sharedPrefixTokens(), "turn re-sends prompt and output of " + prev);
                assertTrue(r.promptTokens() > prev.totalTokens());
                for (int i = 0; i < prev.totalTokens(); i++) {
                    if (prev.tokenId(i) != r.tokenId(i)) {
                        fail("history token " + i + " of " + r + ": " + r.tokenId(i) + " (expected: " + prev.tokenId(i) + ")");
                    }
                }
            }
            lastTurn[r.session()] = r;
        }
        // Most of an agent's prompt is history and shared prefix.
        assertTrue(t.sharedPrefixShare() > 0.8, "shared share " + t.sharedPrefixShare());
    }

    @Test
    void chatTracesCarryNoIdsAndShareNothing() {
        Trace t = Workload.SHAREGPT.generate(100, 1);
        assertEquals(0.0, t.sharedPrefixShare());
        assertThrows(IllegalStateException.class, () -> t.requests().get(0).tokenId(0));
    }

    @Test
    void negativeCountsAndUnknownNamesAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Workload.ALPACA.generate(-1, 1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Workload.AGENT.generate(-5, 1));
        assertTrue(e.getMessage().contains("-5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Workload.parse("lmsys"));
        assertTrue(e.getMessage().contains("lmsys"), e.getMessage());
        assertEquals(Workload.AGENT, Workload.parse(" Agent "));
    }

    private static List<Integer> lengths(Trace t) {
        List<Integer> out = new ArrayList<>();
        for (TraceRequest r : t.requests()) {
            out.add(r.promptTokens());
            out.add(r.outputTokens());
        }
        return out;
    }

    private static void assertWithin(double target, double actual, String what) {
        assertTrue(Math.abs(actual - target) <= TOLERANCE * target,
                what + " mean " + actual + " (expected: within " + (TOLERANCE * 100) + "% of " + target + ")");
    }
}
