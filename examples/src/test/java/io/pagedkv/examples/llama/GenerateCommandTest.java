package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
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
        assertTrue(err.toString().contains("--steps: 129 (expected: prompt length 1 <= steps <= context 128)"), err.toString());
        assertEquals(2, run("generate", "--model", "/nonexistent/model.bin"));
        assertTrue(err.toString().contains("--model: /nonexistent/model.bin (expected: a readable llama2.c checkpoint)"),
                err.toString());
    }
}
