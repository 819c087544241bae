package io.pagedkv.examples.benchserve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pagedkv.examples.PagedKvCli;
import io.pagedkv.examples.llama.CheckpointReader;
import io.pagedkv.examples.serve.ServeConfig;
import io.pagedkv.examples.serve.ServerAssembly;
import io.pagedkv.workload.Workload;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code pagedkv bench-serve} against a real in-process server: figures, JSON, baseline and chart. */
class BenchServeCommandTest {

    private static Path model() {
        Path f = Path.of(System.getProperty("pagedkv.models.dir", "../../shared/models")).resolve("stories260K.bin");
        assumeTrue(Files.isReadable(f), "skipped: real model " + f.toAbsolutePath() + " is absent");
        return f;
    }

    private static String[] run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void aRunReportsEveryRequestCompletedAsJsonAndComparesWithABaselineInAChart(@TempDir Path dir) throws Exception {
        try (ServerAssembly s = ServerAssembly.start(ServeConfig.defaults("stories260K"), CheckpointReader.read(model()), null)) {
            String[] first = run("bench-serve", "--url", s.baseUrl(), "--requests", "8", "--rate", "40", "--label", "a", "--json");
            assertEquals("0", first[0], first[2]);
            BenchResult a = BenchResult.fromJson(first[1]);
            assertEquals(8, a.completed());
            assertEquals(0, a.failed());
            assertEquals(512, a.context());
            assertEquals(0.25, a.scale());
            assertTrue(a.outputThroughput() > 0 && a.ttft().p50() > 0 && a.tpot().count() > 0, first[1]);
            assertEquals(0, a.preemptions());
            Path json = dir.resolve("a.json");
            Files.writeString(json, first[1]);
            Path png = dir.resolve("chart.png");
            String[] second = run("bench-serve", "--url", s.baseUrl(), "--requests", "8", "--label", "b", "--baseline",
                    json.toString(), "--chart", png.toString());
            assertEquals("0", second[0], second[2]);
            assertTrue(second[1].contains("requests completed / failed              8 / 0"), second[1]);
            assertTrue(second[1].contains("b vs a:"), second[1]);
            assertTrue(Files.size(png) > 1000, "a PNG was written");
            byte[] magic = Files.readAllBytes(png);
            assertEquals((byte) 0x89, magic[0]);
            assertEquals('P', magic[1]);
        }
    }

    @Test
    void badFlagsExitTwo() {
        assertEquals("2", run("bench-serve", "--url", "http://127.0.0.1:1", "--requests", "1")[0], "nobody listens");
        assertEquals("2", run("bench-serve", "--url", "http://127.0.0.1:1", "--rate", "0")[0]);
        assertEquals("2", run("bench-serve", "--url", "http://127.0.0.1:1", "--rate", "fast")[0]);
        assertEquals("2", run("bench-serve", "--url", "http://127.0.0.1:1", "--workload", "agent")[0]);
        assertEquals("2", run("bench-serve", "--url", "http://127.0.0.1:1", "--requests", "0")[0]);
    }

    @Test
    void theWorkloadIsSeededScaledToTheContextAndPoissonSpaced() {
        List<BenchRequest> a = BenchWorkload.build(Workload.SHAREGPT, 2000, 5, 512, 10);
        List<BenchRequest> b = BenchWorkload.build(Workload.SHAREGPT, 2000, 5, 512, 10);
        assertEquals(a.get(1999).sendAtNs(), b.get(1999).sendAtNs());
        double meanPrompt = a.stream().mapToInt(r -> r.prompt().length).average().orElseThrow();
        double meanOutput = a.stream().mapToInt(BenchRequest::outputTokens).average().orElseThrow();
        assertTrue(Math.abs(meanPrompt - 161 / 4.0) < 4, "ShareGPT's 161-token prompts scaled x1/4: " + meanPrompt);
        assertTrue(Math.abs(meanOutput - 338 / 4.0) < 8, "ShareGPT's 338-token outputs scaled x1/4: " + meanOutput);
        for (BenchRequest r : a) {
            assertTrue(r.prompt().length + r.outputTokens() <= 512, "fits the context");
            assertEquals(1, r.prompt()[0], "BOS first");
        }
        double seconds = a.get(1999).sendAtNs() / 1e9;
        assertTrue(Math.abs(seconds - 200) < 20, "2000 arrivals at 10/s span about 200 s: " + seconds);
        assertEquals(0, BenchWorkload.build(Workload.SHAREGPT, 5, 1, 128, Double.POSITIVE_INFINITY).get(4).sendAtNs());
    }
}
