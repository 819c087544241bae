package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS;
import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS_TOKENIZER;
import static io.pagedkv.examples.serve.ServeFixtures.STORIES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.PagedKvCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code pagedkv serve} from the command line: the banner, a served request, and bad flags. */
class ServeCommandTest {

    @Test
    void serveStartsOnLoopbackAnswersAndStops() throws Exception {
        ServeCommand cmd = new ServeCommand();
        CommandLine cl = new CommandLine(cmd);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        // Resolve the model files on the test thread: without them the test is skipped here, not in the
        // server's thread (where the skip would go unseen and the test would fail waiting for a start).
        String model = ServeFixtures.file(AIDREAMS).toString();
        String tokenizer = ServeFixtures.file(AIDREAMS_TOKENIZER).toString();
        try (ExecutorService ex = Executors.newSingleThreadExecutor()) {
            Future<Integer> exit = ex.submit(() -> cl.execute("--model", model, "--tokenizer", tokenizer, "--port", "0",
                    "--kv-memory", "2MiB"));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (cmd.started == null && System.nanoTime() < deadline && !exit.isDone()) {
                Thread.sleep(10);
            }
            ServerAssembly s = cmd.started;
            assertTrue(s != null, "started: " + out);
            assertTrue(s.baseUrl().startsWith("http://127.0.0.1:"), "binds loopback by default: " + s.baseUrl());
            HttpResponse<String> r = ServeFixtures.post(s.baseUrl() + "/v1/completions",
                    "{\"model\":\"aidreams260K\",\"prompt\":\"The gentle hum\",\"max_tokens\":8,\"temperature\":0}");
            assertEquals(200, r.statusCode(), r.body());
            cmd.shutdown();
            assertEquals(0, exit.get());
        }
        String banner = out.toString();
        assertTrue(banner.contains("pagedkv serve: model \"aidreams260K\""), banner);
        assertTrue(banner.contains("paged f32 cache: 64 blocks of 16 tokens"), banner);
        assertTrue(banner.contains("API key not required"), banner);
    }

    @Test
    void badFlagsExitTwoNamingTheValueAndTheLimit() {
        String model = ServeFixtures.file(STORIES).toString();
        assertExit2("nonexistent", "--model", "/nonexistent/model.bin");
        assertExit2("kv budget: 0 with policy h2o (expected: >= 8)", "--model", model, "--policy", "h2o");
        assertExit2("with --policy", "--model", model, "--kv-budget", "32");
        assertExit2("expected: paged", "--model", model, "--kv", "contiguous", "--policy", "window", "--kv-budget", "32");
        assertExit2("0 regions", "--model", model, "--kv", "contiguous", "--kv-memory", "100KiB");
        assertExit2("kv blocks: 10 (expected: >= 32", "--model", model, "--kv-blocks", "10");
        assertExit2("port: 70000", "--model", model, "--port", "70000");
        assertExit2("max running: 0", "--model", model, "--max-num-seqs", "0");
        assertExit2("q8_0 group size 32", "--model", model, "--kv-dtype", "q8_0");
    }

    private static void assertExit2(String message, String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "serve";
        System.arraycopy(args, 0, full, 1, args.length);
        CommandLine cl = PagedKvCli.newCommandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute(full), String.join(" ", args) + ": " + err);
        assertTrue(err.toString().contains(message), "expected '" + message + "' in: " + err);
    }
}
