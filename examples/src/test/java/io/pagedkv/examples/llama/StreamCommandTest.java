package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code pagedkv stream} on a short stream (the long runs are commands, docs/streaming.md). */
class StreamCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    private int run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void aShortStreamPrintsTheTableAndWritesTheCsvAndTheChart() throws IOException {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        Path csv = dir.resolve("s.csv");
        Path png = dir.resolve("s.png");
        assertEquals(0, run("stream", "--model", model.toString(), "--tokenizer", tok.toString(), "--tokens", "300",
                "--budgets", "16", "--policies", "window,sinks", "--csv", csv.toString(), "--chart", png.toString(),
                "--threads", "2"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("attention on the first token"), text);
        for (String row : new String[] {"| dense (every token kept)", "| recompute(16)", "| window(16) original",
            "| sinks(16,first=4) original", "| sinks(16,first=4) cache"}) {
            assertTrue(text.contains(row), row + " in " + text);
        }
        assertTrue(text.contains("16 tokens in 1 of 1 blocks"), text);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(300, lines.size(), "a header and positions 1..299");
        assertTrue(lines.get(0).startsWith("position,dense (every token kept),recompute(16),window(16) original"), lines.get(0));
        assertEquals(6, lines.get(1).split(",").length);
        assertTrue(Files.size(png) > 10_000, "a PNG was drawn");
        // at positions the budget covers, every cache is the dense one: the same NLL
        String[] early = lines.get(10).split(",");
        for (int i = 2; i < early.length; i++) {
            assertEquals(Double.parseDouble(early[1]), Double.parseDouble(early[i]), 1e-3, lines.get(10));
        }
    }

    @Test
    void badFlagsExitWithTwoNamingTheValue() {
        Path model = RealModels.file(RealModels.AIDREAMS);
        Path tok = RealModels.file(RealModels.AIDREAMS_TOKENIZER);
        assertEquals(2, run("stream", "--model", model.toString(), "--tokenizer", tok.toString(), "--budgets", "4"));
        assertTrue(err.toString().contains("--budgets: 4 (expected: 8 <= budget < tokens 4096)"), err.toString());
        assertEquals(2, run("stream", "--model", model.toString(), "--tokenizer", tok.toString(), "--tokens", "99999"));
        assertTrue(err.toString().contains("--tokens: tokens: 99999 (expected: <= 21468, the whole text)"), err.toString());
        assertEquals(2, run("stream", "--model", model.toString(), "--tokenizer", tok.toString(), "--policies", "lru"));
        assertTrue(err.toString().contains("--policies: policy: 'lru'"), err.toString());
    }
}
