package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code simulate} subcommand's flags, output and errors, through {@link PagedKvCli#newCommandLine()}. */
class SimulateCommandTest {

    private record Run(int exit, String out, String err) { }

    private static Run run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void aSmallRunPrintsTheSideBySideTable() {
        Run r = run("simulate", "--workload", "alpaca", "--requests", "200", "--memory", "256MiB");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("paged") && r.out().contains("contiguous-max") && r.out().contains("first-fit"), r.out());
        assertTrue(r.out().contains("requests finished                  200/200"), r.out());
        assertTrue(r.out().contains("paged vs contiguous-max:"), r.out());
    }

    @Test
    void jsonCarriesTheSameFiguresAndAChartIsWritten(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("sim.png");
        Run r = run("simulate", "--workload", "alpaca", "--requests", "100", "--memory", "256MiB", "--json",
                "--chart", png.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().trim().startsWith("{") && r.out().trim().endsWith("}"), r.out());
        assertTrue(r.out().contains("\"strategy\" : \"paged\""), r.out());
        assertTrue(r.out().contains("\"finished\" : 100"), r.out());
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "a PNG");
    }

    @Test
    void anUnknownModelFailsNamingItAndTheKnownOnes() {
        Run r = run("simulate", "--model", "gpt-9");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("gpt-9") && r.err().contains("llama-3.1-8b"), r.err());
    }

    @Test
    void memoryTooSmallForOneRequestFailsWithTheBytesNeeded() {
        Run r = run("simulate", "--memory", "64MiB");
        assertNotEquals(0, r.exit());
        // 2048 tokens x 69,632 bytes of llama-3.1-8b q8_0 = 142,606,336 bytes.
        assertTrue(r.err().contains("142606336"), r.err());
    }

    @Test
    void negativeCountsFailNamingTheValue() {
        Run requests = run("simulate", "--requests", "-5");
        assertNotEquals(0, requests.exit());
        assertTrue(requests.err().contains("requests: -5"), requests.err());
        Run block = run("simulate", "--block-size", "-16");
        assertNotEquals(0, block.exit());
        assertTrue(block.err().contains("block-size: -16"), block.err());
        Run memory = run("simulate", "--memory", "-1GiB");
        assertNotEquals(0, memory.exit());
        assertTrue(memory.err().contains("-1GiB"), memory.err());
    }

    @Test
    void unknownWorkloadDtypeAndUnavailablePolicyFail() {
        Run w = run("simulate", "--workload", "lmsys");
        assertNotEquals(0, w.exit());
        assertTrue(w.err().contains("lmsys"), w.err());
        Run d = run("simulate", "--kv-dtype", "q3_k");
        assertNotEquals(0, d.exit());
        assertTrue(d.err().contains("q3_k"), d.err());
        Run p = run("simulate", "--policy", "lru");
        assertNotEquals(0, p.exit());
        assertTrue(p.err().contains("lru"), p.err());
        Run b = run("simulate", "--policy", "h2o", "--kv-budget", "4");
        assertNotEquals(0, b.exit());
        assertTrue(b.err().contains("kv-budget: 4"), b.err());
    }

    @Test
    void aHybridModelIsAlsoRunWithLayerGroupsAndComparedToAllGlobalInTheSameMemory() {
        Run oss = run("simulate", "--model", "gpt-oss-20b", "--memory", "128MiB", "--requests", "200");
        assertEquals(0, oss.exit(), oss.err());
        assertTrue(oss.out().contains("layer groups LayerGroups[sliding(128) x12, global x12]"), oss.out());
        assertTrue(oss.out().contains("paged-hybrid"), oss.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "paged-hybrid vs paged \\(all layers global\\), same memory: ([0-9.]+)x mean concurrency").matcher(oss.out());
        assertTrue(m.find(), oss.out());
        assertTrue(Double.parseDouble(m.group(1)) > 1.2, "a 128-token window frees most of the sliding half:\n" + oss.out());

        Run gemma = run("simulate", "--model", "gemma-2-9b", "--workload", "alpaca", "--requests", "50", "--memory", "1GiB");
        assertEquals(0, gemma.exit(), gemma.err());
        assertTrue(gemma.out().contains("paged-hybrid vs paged (all layers global), same memory: 1.00x mean concurrency"),
                "alpaca requests never reach gemma-2's 4,096-token window:\n" + gemma.out());

        Run llama = run("simulate", "--workload", "alpaca", "--requests", "20", "--memory", "256MiB");
        assertEquals(0, llama.exit(), llama.err());
        assertTrue(!llama.out().contains("paged-hybrid"), "an all-global model runs no hybrid layout:\n" + llama.out());
    }

    @Test
    void aHostTierRaisesTheAgentHitRateAndAPrefillBudgetTurnsItIntoConcurrency() {
        Run r = run("simulate", "--workload", "agent", "--requests", "300", "--memory", "2GiB", "--host-tier", "4GiB",
                "--prefill-budget", "256", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"strategy\" : \"paged+host\""), r.out());
        assertTrue(r.out().contains("\"hostTierTokensRestored\""), r.out());
        Run t = run("simulate", "--workload", "agent", "--requests", "300", "--memory", "2GiB", "--host-tier", "4GiB",
                "--prefill-budget", "256");
        String line = t.out().lines().filter(l -> l.startsWith("prefix-cache hit rate")).findFirst().orElseThrow();
        String[] cells = line.substring(26).trim().split("\\s+");
        double without = Double.parseDouble(cells[0].replace("%", ""));
        double with = Double.parseDouble(cells[1].replace("%", ""));
        assertTrue(with > without + 5, "the host tier restores reclaimed prefixes: " + line);
        assertTrue(t.out().contains("host tier: prefix-cache hit rate"), t.out());
        assertTrue(t.out().contains("prefill budget: 256 prompt tokens computed per step"), t.out());
    }

    @Test
    void aBadHostTierOrPrefillBudgetIsRefusedNamingTheValue() {
        Run a = run("simulate", "--host-tier", "lots");
        assertNotEquals(0, a.exit());
        assertTrue(a.err().contains("lots"), a.err());
        Run b = run("simulate", "--host-tier", "8GiB", "--policy", "window");
        assertNotEquals(0, b.exit());
        assertTrue(b.err().contains("host-tier: 8GiB with --policy window"), b.err());
        Run c = run("simulate", "--prefill-budget", "-1");
        assertNotEquals(0, c.exit());
        assertTrue(c.err().contains("prefill-budget: -1"), c.err());
    }
}
