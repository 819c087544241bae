package io.pagedkv.examples.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PlanCommandTest {

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

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
    void planAloneAnswersTheDefaultQuestion() {
        Run r = run("plan");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("llama-3.1-70b"), r.out());
        assertTrue(r.out().contains("h100 = 85,899,345,920 bytes"), r.out());
        assertTrue(r.out().contains("KV cache per request (131,072 tok)           22,817,013,760        22.82"),
                r.out());
        assertTrue(r.out().contains("fits:     NO"), r.out());
        assertTrue(r.out().contains("largest context at 4 request(s):        60,512 tokens"), r.out());
        assertTrue(r.out().contains("largest concurrency at 131,072 tokens: 1"), r.out());
        for (String d : new String[] {"f32", "f16", "bf16", "fp8_e4m3", "fp8_e5m2", "q8_0*", "q4_0"}) {
            assertTrue(r.out().contains("\n" + d + " "), d + " missing in\n" + r.out());
        }
    }

    @Test
    void a70bModelInF16At128kNeeds40GiBPerRequest() {
        Run r = run("plan", "--model", "llama-3.1-70b", "--context", "131072", "--kv-dtype", "f16",
                "--concurrency", "1", "--memory", "1TiB", "--weights", "f16");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("42,949,672,960        42.95        40.00"), r.out());
        assertTrue(r.out().contains("fits:     YES"), r.out());
    }

    @Test
    void jsonCarriesTheSameFigures() {
        Run r = run("plan", "--json", "--gpu", "m4-max", "-m", "llama-3.1-8b", "-c", "32k", "-n", "2");
        assertEquals(0, r.exit(), r.err());
        String j = r.out();
        assertTrue(j.contains("\"bytes\" : 103079215104"), j);
        assertTrue(j.contains("\"kvPerToken\" : 69632"), j);
        assertTrue(j.contains("\"kvPerRequest\" : 2281701376"), j);
        assertTrue(j.contains("\"fits\" : true"), j);
        assertTrue(j.contains("\"kvDtype\" : \"q4_0\""), j);
        assertTrue(j.trim().startsWith("{") && j.trim().endsWith("}"), j);
    }

    @Test
    void aSlidingModelHasUnlimitedContext() {
        Run r = run("plan", "-m", "mistral-7b", "--gpu", "rtx-4090", "-k", "f16", "-n", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("unlimited (the cache stops growing: every layer slides)"), r.out());
    }

    @Test
    void unsupportedDtypesShowAsNotApplicableForATinyHeadDim() throws IOException {
        Path models = Path.of(System.getProperty("pagedkv.models.dir", "../../shared/models"));
        Path bin = models.resolve("stories260K.bin");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(bin), bin + " is absent; skipping");
        Run r = run("plan", "-m", bin.toString(), "-k", "f16", "-c", "512", "--gpu", "rtx-4090", "-w", "f32");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("stories260K: 5 layers, 8 query heads, 4 KV heads"), r.out());
        assertTrue(r.out().contains("q8_0"), r.out());
        assertTrue(r.out().contains("n/a: head dim 8 is not a multiple of 32"), r.out());
        Run q = run("plan", "-m", bin.toString(), "-k", "q8_0");
        assertEquals(2, q.exit());
        assertTrue(q.err().contains("head dim 8"), q.err());
    }

    @Test
    void badFlagsGiveAClearMessageAndExitCode2() {
        String[][] cases = {
            {"--context", "lots", "tokens: 'lots'"},
            {"--kv-dtype", "q3", "kv dtype: 'q3'"},
            {"--memory", "80G", "ambiguous"},
            {"--gpu", "a100", "gpu: 'a100'"},
            {"--model", "llama-9", "model: 'llama-9'"},
            {"--concurrency", "0", "concurrency: 0"},
            {"--weights", "q3", "weights: 'q3'"},
            {"--bogus", "1", "Unknown option"},
        };
        for (String[] c : cases) {
            Run r = run("plan", c[0], c[1]);
            assertEquals(2, r.exit(), String.join(" ", c));
            assertTrue(r.err().contains(c[2]), c[0] + " -> " + r.err());
            assertFalse(r.out().contains("fits:"), r.out());
        }
        Run both = run("plan", "--memory", "80GiB", "--gpu", "h100");
        assertEquals(2, both.exit());
        assertTrue(both.err().contains("both given"), both.err());
    }

    @Test
    void anUnreadableModelFileExits1() throws IOException {
        Path gguf = Files.write(dir.resolve("broken.gguf"), new byte[] {'G', 'G', 'U', 'F', 3, 0});
        Run r = run("plan", "--model", gguf.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("cannot read model") && r.err().contains("truncated"), r.err());
        Run missing = run("plan", "--model", dir.resolve("absent.gguf").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }
}
