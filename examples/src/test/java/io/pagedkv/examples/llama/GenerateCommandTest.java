package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GenerateCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void generatePrintsEnglishThenThePagedCacheStatisticsAndTheLockstepVerdict() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        assertEquals(0, run("generate", "--model", model.toString(), "--tokenizer", tok.toString(), "--steps", "40",
                "--compare"), err.toString());
        String text = out.toString();
        assertTrue(text.contains(" of "), text);
        assertTrue(text.contains("40 tokens (1 prompt, 40 generated)"), text);
        assertTrue(text.contains("paged f32 cache") && text.contains("3 blocks of 16 tokens"), text);
        assertTrue(text.contains("lockstep vs contiguous f32 over 40 greedy steps: identical tokens"), text);
    }

    @Test
    void idsModePrintsTokenIdsOfTheGqaModel() {
        Path model = RealModels.file(RealModels.STORIES);
        assertEquals(0, run("generate", "--model", model.toString(), "--steps", "10", "--kv-dtype", "f16"), err.toString());
        String first = out.toString().lines().findFirst().orElseThrow().trim();
        assertEquals(10, first.split(" ").length, first);
        assertTrue(out.toString().contains("paged f16 cache"), out.toString());
    }

    @Test
    void aDtypeTheHeadDimCannotHoldExitsWithTheReason() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        assertEquals(2, run("generate", "--model", model.toString(), "--kv-dtype", "q8_0"));
        assertTrue(err.toString().contains("headDim: 16") && err.toString().contains("group size 32"), err.toString());
    }

    @Test
    void stepsBeyondTheContextAndAMissingModelExitWithTwo() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        assertEquals(2, run("generate", "--model", model.toString(), "--steps", "129"));
        assertTrue(err.toString().contains("--steps: 129 (expected: prompt length 1 <= steps <= context 128; more with --policy and --budget)"), err.toString());
        assertEquals(2, run("generate", "--model", "/nonexistent/model.bin"));
        assertTrue(err.toString().contains("--model: /nonexistent/model.bin (expected: a readable llama2.c checkpoint)"),
                err.toString());
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " in " + text);
        return Long.parseLong(m.group(1));
    }

    @Test
    void windowPolicyEvictsAndTheCacheNeverHoldsMoreThanTheBudget() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        assertEquals(0, run("generate", "--model", model.toString(), "--tokenizer", tok.toString(), "--steps", "100",
                "--policy", "window", "--budget", "32"), err.toString());
        String text = out.toString();
        assertTrue(text.lines().findFirst().orElseThrow().trim().length() > 20, text);
        long seen = number(text, "(\\d+) tokens seen");
        long live = number(text, "(\\d+) live in");
        long evicted = number(text, "evicted (\\d+) tokens");
        assertTrue(evicted > 0, text);
        assertEquals(seen - live, evicted, text);
        assertEquals(32, number(text, "peak (\\d+) tokens"), text);
        assertEquals(2, number(text, "in (\\d+) blocks \\("), "32 tokens in exactly 2 blocks of 16: " + text);
    }

    @Test
    void attentionAndKeyPoliciesDecodeWithinTheirBudget() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        for (String policy : new String[] {"h2o", "tova", "knorm", "sinks", "keydiff", "lagkv", "random"}) {
            out.getBuffer().setLength(0);
            assertEquals(0, run("generate", "--model", model.toString(), "--steps", "60", "--policy", policy,
                    "--budget", "16", "--ids"), err.toString());
            String text = out.toString();
            // eviction runs before each token is placed, so the cache never holds more than the budget;
            // a generated BOS may end the text before 60 tokens
            long seen = number(text, "(\\d+) tokens seen");
            assertTrue(seen > 16, policy + ": " + text);
            assertEquals(seen - 16, number(text, "evicted (\\d+) tokens"), policy + ": " + text);
            assertEquals(16, number(text, "peak (\\d+) tokens"), policy + ": " + text);
        }
    }

    @Test
    void aStreamRunsFarPastTheContextWithinTheBudgetAfterAPromptLongerThanTheBudget() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        String prompt = EvalText.chapters().get(0).substring(0, 160); // about 90 tokens, through a budget of 32
        assertEquals(0, run("generate", "--model", model.toString(), "--tokenizer", tok.toString(), "--prompt", prompt,
                "--steps", "500", "--policy", "sinks", "--budget", "32", "--rotary", "cache"), err.toString());
        String text = out.toString();
        long seen = number(text, "(\\d+) tokens seen");
        assertTrue(seen > 300, "far past the context of 128: " + text);
        assertTrue(number(text, "\\((\\d+) prompt") > 32, text);
        assertEquals(32, number(text, "peak (\\d+) tokens"), text);
        assertEquals(2, number(text, "in (\\d+) blocks \\("), text);
        assertEquals(seen - 32, number(text, "evicted (\\d+) tokens"), text);
        assertTrue(number(text, "\\((\\d+) re-rotated in place\\)") > 0, text);
    }

    @Test
    void badPolicyBudgetCombinationsExitWithTwo() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        assertEquals(2, run("generate", "--model", model.toString(), "--budget", "32"));
        assertTrue(err.toString().contains("--budget: 32 (expected: with --policy"), err.toString());
        assertEquals(2, run("generate", "--model", model.toString(), "--policy", "window"));
        assertTrue(err.toString().contains("--policy: window (expected: with --budget N)"), err.toString());
        assertEquals(2, run("generate", "--model", model.toString(), "--policy", "window", "--budget", "7"));
        assertTrue(err.toString().contains("--budget: 7 (expected: >= 8"), err.toString());
        assertEquals(2, run("generate", "--model", model.toString(), "--policy", "window", "--budget", "32",
                "--cache", "contiguous"));
        assertTrue(err.toString().contains("--cache: contiguous (expected: paged with --policy)"), err.toString());
        assertEquals(2, run("generate", "--model", model.toString(), "--policy", "window", "--budget", "32",
                "--steps", "300", "--compare"));
        assertTrue(err.toString().contains("--compare: with --steps 300 (expected: steps <= context 128"), err.toString());
    }
}
