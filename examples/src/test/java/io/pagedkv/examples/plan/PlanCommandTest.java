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

    private static String oneSpace(String s) {
        return s.replaceAll(" +", " ");
    }

    @Test
    void bothAttentionKernelsPrefillTransientsArePrintedAndTheFlagPicksThePeak() {
        Run flash = run("plan", "--model", "llama-3.1-70b", "--context", "128k");
        assertEquals(0, flash.exit(), flash.err());
        // flash: 64 heads x 512 rows x 2 floats; eager: 64 x 512 x 131,072 floats; both + 268,435,456 B of activations
        assertTrue(oneSpace(flash.out()).contains("prefill transient, flash* (512 tok) 268,697,600"), flash.out());
        assertTrue(oneSpace(flash.out()).contains(" softmax row stats (f32, 2/row) 262,144"), flash.out());
        assertTrue(oneSpace(flash.out()).contains("prefill transient, eager (512 tok) 17,448,304,640"), flash.out());
        assertTrue(oneSpace(flash.out()).contains(" attention scores (f32, 1 layer) 17,179,869,184"), flash.out());
        assertTrue(oneSpace(flash.out()).contains("peak during prefill (flash) 135,295,486,895"), flash.out());
        Run eager = run("plan", "--model", "llama-3.1-70b", "--context", "128k", "--attention", "eager");
        assertEquals(0, eager.exit(), eager.err());
        assertTrue(oneSpace(eager.out()).contains("prefill transient, eager* (512 tok) 17,448,304,640"), eager.out());
        assertTrue(oneSpace(eager.out()).contains("peak during prefill (eager) 152,475,093,935"), eager.out());
        Run json = run("plan", "--model", "llama-3.1-70b", "--context", "128k", "--json");
        String compact = json.out().replaceAll("\\s", "");
        assertTrue(compact.contains("\"attention\":\"flash\""), json.out());
        assertTrue(compact.contains("\"eager\":{\"transient\":17448304640"), json.out());
        Run bad = run("plan", "--attention", "sdpa");
        assertEquals(PlanCommand.EXIT_BAD_FLAG, bad.exit());
        assertTrue(bad.err().contains("--attention: attention: sdpa (expected: flash or eager)"), bad.err());
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
    void absurdWorkloadsSaturateAndSaySoInsteadOfWrapping() {
        Run r = run("plan", "-m", "llama-3.1-405b", "-c", "1M", "-n", "100000000000", "-k", "f32");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("short by more than 2^63 bytes"), r.out());
        assertTrue(r.out().contains("headroom                                          < -9.2e18"), r.out());
        assertFalse(r.out().contains("-9,2"), r.out());
    }

    @Test
    void aHybridModelShowsTheMemoryItsSlidingLayersSaveAgainstAllGlobal() {
        Run r = run("plan", "-m", "gemma-2-9b", "-c", "32k", "-n", "8");
        assertEquals(0, r.exit(), r.err());
        String out = oneSpace(r.out());
        assertTrue(out.contains("sliding window vs all layers global (21 of 42 layers slide over 4,096 tokens)"), r.out());
        // q8_0: 2 x 8 heads x 272 bytes = 4,352 bytes per token per layer;
        // all global 42 x 32,768 tokens, sliding 21 x 32,768 + 21 x (4,096 + 16) tokens: ceil(4,096 / 16) + 1
        // blocks per sliding layer, what GroupedKvCache holds between steps
        assertTrue(out.contains("KV cache per request (32,768 tok) 5,989,466,112 3,370,536,960 43.7%"), r.out());
        assertTrue(out.contains("largest concurrency at 32,768 tok 13 23"), r.out());

        Run oss = run("plan", "-m", "gpt-oss-20b", "-c", "128k", "-n", "4", "--gpu", "rtx-4090");
        assertEquals(0, oss.exit(), oss.err());
        String o = oneSpace(oss.out());
        assertTrue(o.contains("(12 of 24 layers slide over 128 tokens)"), oss.out());
        assertTrue(o.contains("fits no yes"), "all-global does not fit a 4090, the hybrid layout does:\n" + oss.out());

        Run mistral = run("plan", "-m", "mistral-7b", "-c", "32k", "-n", "4", "--json");
        assertEquals(0, mistral.exit(), mistral.err());
        // 32 layers x 2 x 8 heads x 136 bytes (q8_0 of 128) x (32,768 - (4,096 + 16)) tokens x 4 requests
        assertTrue(mistral.out().contains("\"kvSavedBySlidingWindow\" : 7981498368"), mistral.out());

        Run llama = run("plan", "-m", "llama-3.1-8b");
        assertFalse(llama.out().contains("sliding window vs"), "a global model has no such section");
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

    private static void str(java.io.ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeBytes(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(b.length).array());
        out.writeBytes(b);
    }

    private static void u32(java.io.ByteArrayOutputStream out, long v) {
        out.writeBytes(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    private static void u64(java.io.ByteArrayOutputStream out, long v) {
        out.writeBytes(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    @Test
    void aGgufHeaderIsAModel() throws IOException {
        var out = new java.io.ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        u32(out, 3);
        u64(out, 0);
        u64(out, 6);
        str(out, "general.architecture");
        u32(out, 8);
        str(out, "llama");
        String[] keys = {"llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv",
            "llama.embedding_length"};
        long[] values = {32, 32, 8, 4096};
        for (int i = 0; i < keys.length; i++) {
            str(out, keys[i]);
            u32(out, 4);
            u32(out, values[i]);
        }
        str(out, "general.parameter_count");
        u32(out, 10);
        u64(out, 8_030_261_248L);
        Path gguf = Files.write(dir.resolve("Meta-Llama-3.1-8B-Q4_K_M.gguf"), out.toByteArray());
        Run r = run("plan", "-m", gguf.toString(), "-k", "f16", "-c", "8k", "-n", "1", "--gpu", "rtx-4090");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Meta-Llama-3.1-8B-Q4_K_M: 32 layers, 32 query heads, 8 KV heads (GQA 4:1),"
                + " head dim 128, all layers global, 8,030,261,248 parameters"), r.out());
        assertTrue(r.out().contains("KV cache per token (all layers)                     131,072"), r.out());
    }

    @Test
    void aConfigJsonIsAModel() throws IOException {
        Path cfg = Files.createDirectories(dir.resolve("gemma-2-9b-it")).resolve("config.json");
        Files.writeString(cfg, "{\"model_type\": \"gemma2\", \"num_hidden_layers\": 42, \"num_attention_heads\": 16,"
                + " \"num_key_value_heads\": 8, \"head_dim\": 256, \"hidden_size\": 3584, \"sliding_window\": 4096}");
        Run r = run("plan", "--model", cfg.toString(), "-k", "f16", "-c", "8192", "-n", "1", "--gpu", "rtx-4090");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("gemma-2-9b-it: 42 layers, 16 query heads, 8 KV heads (GQA 2:1), head dim 256,"
                + " 21 layers slide over 4,096 tokens, 21 global, parameter count unknown"), r.out());
        // f16: 8,192 bytes per token per layer x (21 x 8,192 + 21 x (4,096 + 16)) tokens
        assertTrue(r.out().contains("KV cache per request (8,192 tok)              2,116,681,728"), r.out());
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
