package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code pagedkv quality} on a few prompts (the 64-prompt table is a command, docs/decoder.md). */
class QualityCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void aFewTextPromptsGiveRowsWithIntervalsInBothRotaryModes() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        assertEquals(0, run("quality", "--model", model.toString(), "--tokenizer", tok.toString(), "--prompts", "3",
                "--budgets", "16", "--policies", "window,tova", "--rotary", "original,cache", "--threads", "2"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("3 prompts of 128 tokens (KJV Genesis"), text);
        assertTrue(text.contains("| window(16)                     | original |     16 |    336 |"), text);
        assertTrue(text.contains("| tova(16)                       | cache    |     16 |    336 |"), text);
        // the per-layer rows, original positions only, measured on the same steps as the shared ones
        assertTrue(text.contains("| h2o-layer(16)                  | original |     16 |    336 |"), text);
        assertTrue(text.contains("| tova-layer(16)                 | original |     16 |    336 |"), text);
        assertTrue(text.contains("| snapkv(16,w=4)                 | original |     16 |    336 |"), text);
        assertTrue(text.contains("| pyramidkv(16,w=4,28..5)        | original |     16 |    336 |"), text);
        assertEquals(4 + 4 + 3, text.lines().count(), text);
    }

    @Test
    void sampledPromptsNeedNoTokenizerAndWorkOnTheGqaModel() {
        Path model = RealModels.file(RealModels.STORIES);
        assertEquals(0, run("quality", "--model", model.toString(), "--source", "sampled", "--prompts", "2", "--length", "48",
                "--budgets", "16", "--policies", "sinks"), err.toString());
        assertTrue(out.toString().contains("the model's samples, seeds 1..2"), out.toString());
        assertTrue(out.toString().contains("| sinks(16,first=4)              | original |     16 |     64 |"), out.toString());
    }

    @Test
    void badFlagsExitWithTwoNamingTheValue() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        assertEquals(2, run("quality", "--model", model.toString()));
        assertTrue(err.toString().contains("--tokenizer: null (expected: the model's readable tokenizer, for --source text)"),
                err.toString());
        assertEquals(2, run("quality", "--model", model.toString(), "--source", "sampled", "--budgets", "128"));
        assertTrue(err.toString().contains("--budgets: 128 (expected: 8 <= budget < length 128)"), err.toString());
        assertEquals(2, run("quality", "--model", model.toString(), "--source", "sampled", "--layer-policies", "h2o-head"));
        assertTrue(err.toString().contains("--layer-policies: layer policy: 'h2o-head' (expected: one of h2o-layer, tova-layer,"
                + " snapkv, pyramidkv)"), err.toString());
        assertEquals(2, run("quality", "--model", model.toString(), "--source", "sampled", "--prompts", "1"));
        assertTrue(err.toString().contains("(expected: >= 2 prompts, an interval needs two"), err.toString());
    }
}
