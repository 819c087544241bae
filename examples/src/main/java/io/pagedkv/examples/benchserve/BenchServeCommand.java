package io.pagedkv.examples.benchserve;

import io.pagedkv.examples.serve.JsonTree;
import io.pagedkv.workload.Workload;
import java.io.File;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pagedkv bench-serve}: replays a seeded ShareGPT- or Alpaca-shaped trace against a running
 * server with Poisson arrivals, every request streamed with {@code ignore_eos} so it generates
 * exactly its trace length, then reports throughput and TTFT / TPOT / latency percentiles, the
 * server's preemptions and prefix-cache share (from its {@code /metrics}) and the machine's load.
 * Not thread-safe; one per run.
 */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Load-test an OpenAI-compatible completion server with Poisson arrivals (vLLM's benchmark_serving"
                + " is the model): throughput, TTFT and TPOT p50/p90/p99.")
public final class BenchServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--url", required = true, description = "the server, e.g. http://127.0.0.1:8080")
    String url;

    @Option(names = "--model", description = "model name to request (default: the first of GET /v1/models)")
    String model;

    @Option(names = "--api-key", description = "sent as Authorization: Bearer (default: env PAGEDKV_API_KEY)")
    String apiKey;

    @Option(names = "--workload", defaultValue = "sharegpt", description = "sharegpt or alpaca (default: ${DEFAULT-VALUE})")
    String workload;

    @Option(names = "--rate", defaultValue = "inf", description = "requests per second, Poisson arrivals; inf = all at once (default: ${DEFAULT-VALUE})")
    String rate;

    @Option(names = "--requests", defaultValue = "100", description = "requests to send (default: ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--seed", defaultValue = "1", description = "trace and arrival seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--context", defaultValue = "0", description = "context to fit the trace into (default: the server's max_model_len)")
    int context;

    @Option(names = "--label", defaultValue = "run", description = "name of this run in the table, JSON and chart (default: ${DEFAULT-VALUE})")
    String label;

    @Option(names = "--json", description = "print the figures as JSON instead of the table")
    boolean json;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "draw latency and throughput (with --baseline: side by side)")
    Path chart;

    @Option(names = "--baseline", paramLabel = "FILE.json", description = "a previous run's --json output to compare with")
    Path baseline;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Workload w;
        double r;
        try {
            w = Workload.parse(workload);
            if (w != Workload.SHAREGPT && w != Workload.ALPACA) {
                throw new IllegalArgumentException("workload: " + workload + " (expected: sharegpt or alpaca)");
            }
            r = rate.equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(rate);
            if (!(r > 0)) {
                throw new IllegalArgumentException("rate: " + rate + " (expected: > 0 requests/s, or inf)");
            }
            if (requests < 1) {
                throw new IllegalArgumentException("requests: " + requests + " (expected: >= 1)");
            }
        } catch (NumberFormatException e) {
            err.println("--rate: " + rate + " (expected: a number of requests/s, or inf)");
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("bench-serve: " + e.getMessage());
            return 2;
        }
        BenchResult base = null;
        if (baseline != null) {
            try {
                base = BenchResult.fromJson(Files.readString(baseline));
            } catch (java.io.IOException | IllegalArgumentException | io.pagedkv.examples.serve.ApiException e) {
                err.println("--baseline: " + baseline + ": " + e.getMessage());
                return 2;
            }
        }
        String key = apiKey != null ? apiKey : System.getenv("PAGEDKV_API_KEY");
        BenchClient probe = new BenchClient(url, key, "?");
        String served;
        int ctx;
        try {
            Map<?, ?> models = (Map<?, ?>) JsonTree.parse(probe.get("/v1/models").getBytes(StandardCharsets.UTF_8));
            Map<?, ?> first = (Map<?, ?>) ((List<?>) models.get("data")).get(0);
            served = model != null ? model : (String) first.get("id");
            ctx = context > 0 ? context : first.get("max_model_len") instanceof Long l ? (int) (long) l : 0;
        } catch (java.io.IOException | RuntimeException e) {
            err.println("--url: " + url + ": GET /v1/models failed (" + e.getMessage() + ")");
            return 2;
        }
        if (ctx < 2) {
            err.println("--context: the server gave no max_model_len (expected: --context N)");
            return 2;
        }
        List<BenchRequest> reqs = BenchWorkload.build(w, requests, seed, ctx, r);
        double scale = BenchWorkload.scale(w, ctx);
        double[] before = serverCounters(probe);
        if (!json) {
            out.printf(Locale.ROOT, "bench-serve: %d %s requests (lengths x%.4g to fit context %d) at %s req/s against %s (%s)%n",
                    requests, w.label(), scale, ctx, Double.isInfinite(r) ? "inf" : rate, url, served);
            out.flush();
        }
        BenchClient client = new BenchClient(url, key, served);
        List<RequestOutcome> outcomes = new ArrayList<>(reqs.size());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            List<Future<RequestOutcome>> fs = new ArrayList<>(reqs.size());
            for (BenchRequest q : reqs) {
                fs.add(pool.submit(() -> {
                    long wait = start + q.sendAtNs() - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    return client.send(q);
                }));
            }
            for (Future<RequestOutcome> f : fs) {
                outcomes.add(f.get());
            }
        }
        double[] after = serverCounters(probe);
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        long preemptions = before[0] < 0 || after[0] < 0 ? -1 : (long) (after[0] - before[0]);
        BenchResult result = BenchResult.of(label, served, w.label(), r, seed, ctx, scale, outcomes, preemptions,
                (long) after[1], (long) after[2], load);
        if (json) {
            out.println(result.toJson());
        } else {
            out.print(result.table());
            if (base != null) {
                out.printf(Locale.ROOT, "%s vs %s: %.2fx output throughput, TTFT p50 %.2fx, TPOT p50 %.2fx, latency p99 %.2fx%n",
                        result.label(), base.label(), result.outputThroughput() / base.outputThroughput(),
                        result.ttft().p50() / base.ttft().p50(), result.tpot().p50() / base.tpot().p50(),
                        result.latency().p99() / base.latency().p99());
            }
        }
        for (RequestOutcome o : outcomes) {
            if (!o.ok()) {
                err.println("request " + o.id() + ": HTTP " + o.status() + ": " + o.error());
                break; // the first failure explains the others
            }
        }
        if (chart != null) {
            List<BenchResult> runs = base == null ? List.of(result) : List.of(base, result);
            BenchChart.write(runs, new File(chart.toString()), 1200, 520);
            if (!json) {
                out.println("chart: " + chart);
            }
        }
        out.flush();
        return result.completed() == 0 ? 1 : 0;
    }

    /** {preemptions, kv blocks, tokens per block} from the server's /metrics, -1 where absent. */
    private static double[] serverCounters(BenchClient c) {
        double[] v = {-1, -1, -1};
        try {
            for (String line : c.get("/metrics").split("\n")) {
                int i = line.startsWith("pagedkv_preemptions_total") ? 0
                        : line.startsWith("pagedkv_blocks_total_objects") ? 1
                        : line.startsWith("pagedkv_kv_block_tokens") ? 2 : -1;
                if (i >= 0) {
                    v[i] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not a pagedkv server, or no metrics: the figures stay unknown
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return v;
    }
}
