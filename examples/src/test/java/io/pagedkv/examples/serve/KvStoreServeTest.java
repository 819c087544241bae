package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pagedkv.examples.PagedKvCli;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.tier.PrefixTierStats;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code pagedkv serve --kv-store redis://...}: two servers on one real Redis. A prompt completed on
 * the first is written back to Redis when the request finishes; the second server, cold, restores
 * its full blocks from Redis, admits the prompt with them as prefix hits and completes it with the
 * same tokens as the single-request reference. A Redis that does not answer is an error at start-up.
 */
class KvStoreServeTest {

    @Test
    void aSecondServerOnTheSameRedisRestoresThePromptTheFirstComputedAndAnswersTheSame() throws Exception {
        LlamaWeights w = ServeFixtures.weights(ServeFixtures.STORIES);
        Path redis = redisServer();
        int port = freePort();
        Path dir = Files.createTempDirectory("pagedkv-serve-redis");
        Process p = new ProcessBuilder(redis.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(port), "--dir",
                dir.toString(), "--save", "", "--appendonly", "no").redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        try {
            waitFor(port);
            String url = "redis://127.0.0.1:" + port;
            ServeConfig cfg = ServeConfig.defaults("stories").withKvStore(url);
            int[] prompt = new int[70];
            prompt[0] = 1;
            for (int i = 1; i < prompt.length; i++) {
                prompt[i] = 3 + (i * 37) % 500;
            }
            int[] want = ServeFixtures.reference(w, prompt, 8, 0f, 1);
            String body = ServeFixtures.body("stories", ServeFixtures.idsJson(prompt), 8, 0f, 1, false);
            try (ServerAssembly a = ServeFixtures.start(cfg, ServeFixtures.STORIES, null);
                    ServerAssembly b = ServeFixtures.start(cfg, ServeFixtures.STORIES, null)) {
                assertTrue(a.kv().describe().contains("prefix tier"), a.kv().describe());
                assertArrayEquals(want, ids(ServeFixtures.post(a.baseUrl() + "/v1/completions", body)));
                PagedKvBackend kb = (PagedKvBackend) b.kv();
                assertArrayEquals(want, ids(ServeFixtures.post(b.baseUrl() + "/v1/completions", body)),
                        "the second server answers as the reference from the restored prefix");
                PrefixTierStats st = kb.tierStats();
                assertEquals(64, kb.restoredTokens(), "4 full blocks restored from Redis: " + st);
                assertEquals(4L, st.hitsByMedium().get("redis"), st.toString());
                assertTrue(((PagedKvBackend) a.kv()).tierStats().offloadsOffered() >= 4, "written back by the first");
            }
        } finally {
            p.destroy();
            p.waitFor();
            try (var files = Files.walk(dir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void aRedisThatDoesNotAnswerIsAnErrorAtStartUpAndABadUrlIsRefused() throws Exception {
        Path model = ServeFixtures.file(ServeFixtures.STORIES);
        int port = freePort(); // nothing listens there
        StringWriter err = new StringWriter();
        var cl = PagedKvCli.newCommandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int exit = cl.execute("serve", "--model", model.toString(), "--port", "0", "--kv-store",
                "redis://127.0.0.1:" + port);
        assertNotEquals(0, exit);
        assertTrue(err.toString().contains("nothing accepts connections"), err.toString());
        StringWriter err2 = new StringWriter();
        cl.setErr(new PrintWriter(err2));
        assertNotEquals(0, cl.execute("serve", "--model", model.toString(), "--kv-store", "memcached://x:1"));
        assertTrue(err2.toString().contains("kv store: memcached://x:1"), err2.toString());
        StringWriter err3 = new StringWriter();
        cl.setErr(new PrintWriter(err3));
        assertNotEquals(0, cl.execute("serve", "--model", model.toString(), "--no-prefix-caching", "--kv-store",
                "redis://127.0.0.1:" + port));
        assertTrue(err3.toString().contains("prefix caching off"), err3.toString());
    }

    @SuppressWarnings("unchecked")
    static int[] ids(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> json = (Map<String, Object>) JsonTree.parse(r.body().getBytes());
        List<Object> choices = (List<Object>) json.get("choices");
        List<Object> ids = (List<Object>) ((Map<String, Object>) choices.get(0)).get("token_ids");
        List<Integer> out = new ArrayList<>();
        for (Object o : ids) {
            out.add((int) (long) (Long) o);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static Path redisServer() {
        String forced = System.getProperty("pagedkv.redis-server");
        Path b = forced != null && !forced.isBlank() && !forced.equals("none") ? Path.of(forced)
                : Path.of("/usr/bin/redis-server");
        assumeTrue(!"none".equals(forced) && Files.isExecutable(b), "skipped: redis-server not found at " + b
                + ": install it with: apt-get install -y redis-server");
        return b;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void waitFor(int port) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                if (s.isConnected()) {
                    return;
                }
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        throw new IllegalStateException("redis-server did not listen on " + port);
    }
}
