package io.pagedkv.examples.evict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvictCommandTest {

    static String[] run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void printsOneRowPerPolicyAndWritesTheSameRowsAsCsv(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("evict.csv");
        String[] r = run("evict", "--trace", "power-law", "--prompt", "128", "--decode", "32", "--budget", "0.25",
                "--csv", csv.toString());
        assertEquals("0", r[0], r[2]);
        for (String name : new String[] {"window(32)", "sinks(32,first=4)", "h2o(32,recent=16)", "tova(32)",
            "knorm(32,sinks=4,recent=8)", "keydiff(32,sinks=4,recent=4)", "lagkv(32,sinks=4,lag=13)", "random(32)",
            "-per-head(mask)", "h2o-layer(32)", "tova-layer(32)", "snapkv(32,w=8)", "pyramidkv(32,w=8,32..32)"}) {
            assertTrue(r[1].contains(name), name + " in " + r[1]);
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals(1 + 14, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("trace,policy,tokens_kept"));
        assertTrue(lines.get(1).startsWith("power-law,\"window(32)\",32,"), lines.get(1));
    }

    @Test
    void aBudgetAboveOneIsRefusedNamingTheValue() {
        String[] r = run("evict", "--budget", "1.5");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("budget: 1.5"), r[2]);
    }

    @Test
    void anUnknownTraceIsRefusedNamingIt() {
        String[] r = run("evict", "--trace", "zipf");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("trace: 'zipf'"), r[2]);
    }
}
