package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.STORIES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics} in Prometheus text format, after real requests, says what happened. */
class MetricsTest {

    @Test
    void metricsCountBlocksPrefixHitsRequestsAndLatencyHistogramsOfRealRequests() throws Exception {
        ServeConfig config = ServeConfig.defaults("stories260K").withKv(KvKind.paged, 64, 0);
        try (ServerAssembly s = ServeFixtures.start(config, STORIES, null)) {
            String prompt = "[1,400,401,402,403,404,405,406,407,408,409,410,411,412,413,414,415,416,417,418]";
            for (int i = 0; i < 3; i++) {
                String body = ServeFixtures.body("stories260K", prompt, 12, 0f, 0, i == 2);
                if (i == 2) {
                    assertEquals(200, ServeFixtures.stream(s.baseUrl() + "/v1/completions", body).status());
                } else {
                    assertEquals(200, ServeFixtures.post(s.baseUrl() + "/v1/completions", body).statusCode());
                }
            }
            ServeFixtures.assertDrained(s);
            HttpResponse<String> r = ServeFixtures.get(s.baseUrl() + "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            Map<String, Double> m = parse(r.body());
            assertEquals(64.0, m.get("pagedkv_blocks_total_objects{kv=\"paged\"}"));
            assertEquals(0.0, m.get("pagedkv_blocks_objects{kv=\"paged\",state=\"used\"}"));
            assertTrue(m.get("pagedkv_blocks_objects{kv=\"paged\",state=\"cached\"}") >= 1, "the 31-token history: 1 full block cached");
            assertEquals(64.0, m.get("pagedkv_blocks_objects{kv=\"paged\",state=\"free\"}")
                    + m.get("pagedkv_blocks_objects{kv=\"paged\",state=\"cached\"}"));
            assertEquals(32.0, m.get("pagedkv_admitted_cached_tokens_total"), "requests 2 and 3 reuse the 16-token block");
            assertEquals(60.0, m.get("pagedkv_admitted_prompt_tokens_total"));
            assertEquals(0.0, m.get("pagedkv_preemptions_total"));
            assertEquals(0.0, m.get("pagedkv_requests_running"));
            assertEquals(0.0, m.get("pagedkv_requests_waiting"));
            assertEquals(36.0, m.get("pagedkv_generation_tokens_total"));
            assertEquals(3.0, m.get("pagedkv_requests_finished_total{finish_reason=\"length\"}"));
            assertEquals(3.0, m.get("pagedkv_time_to_first_token_seconds_count"));
            assertEquals(3.0, m.get("pagedkv_time_per_output_token_seconds_count"));
            assertEquals(3.0, m.get("pagedkv_time_to_first_token_seconds_bucket{le=\"+Inf\"}"));
        }
    }

    private static Map<String, Double> parse(String text) {
        Map<String, Double> m = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int sp = line.lastIndexOf(' ');
            m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
        }
        return m;
    }
}
