package io.pagedkv.examples.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of {@code pagedkv serve}, on the JDK's {@code com.sun.net.httpserver} with one
 * virtual thread per exchange: OpenAI's {@code POST /v1/completions} (whole or streamed as
 * server-sent events ending with {@code data: [DONE]}), {@code GET /v1/models}, {@code GET /health}
 * and {@code GET /metrics} (Prometheus text).
 *
 * <h2>Safety</h2>
 * With an API key every {@code /v1} route needs {@code Authorization: Bearer <key>} (401
 * otherwise, checked before the body is read); bodies over the limit get 413 before they are
 * read; streams beyond the limit and requests beyond the engine's queue get 429; every error is a
 * JSON body in OpenAI's shape. A streaming client that goes away is noticed at the next write (a
 * keep-alive comment is written every {@value #KEEP_ALIVE_MS} ms while no token comes) and its
 * request is cancelled, which frees its K/V at the engine's next step.
 *
 * <p>Thread-safe; {@link #close()} stops accepting and ends open exchanges.
 */
public final class CompletionServer implements AutoCloseable {

    /** Milliseconds a stream may stay silent before a keep-alive comment probes the connection. */
    public static final int KEEP_ALIVE_MS = 500;

    private final HttpServer http;
    private final ExecutorService executor;
    private final Engine engine;
    private final CompletionRequestParser parser;
    private final ServeMetrics metrics;
    private final String modelName;
    private final int context;
    private final BearerAuth auth;
    private final ServerLimits limits;
    private final Semaphore streams;
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Binds {@code address} (port 0: any free port); call {@link #start()}.
     *
     * @param apiKey null or empty: no authentication
     * @throws IOException if the address cannot be bound
     */
    public CompletionServer(InetSocketAddress address, Engine engine, CompletionRequestParser parser, ServeMetrics metrics,
            String modelName, int context, String apiKey, ServerLimits limits) throws IOException {
        this.engine = engine;
        this.parser = parser;
        this.metrics = metrics;
        this.modelName = modelName;
        this.context = context;
        this.auth = apiKey == null || apiKey.isEmpty() ? null : new BearerAuth(apiKey);
        this.limits = limits;
        this.streams = new Semaphore(limits.maxStreams());
        this.http = HttpServer.create(address, 512);
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/", this::handle);
    }

    /** Starts serving. */
    public void start() {
        http.start();
    }

    /** The bound port. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Whether an API key is required on {@code /v1} routes. */
    public boolean requiresApiKey() {
        return auth != null;
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (ApiException e) {
                sendError(ex, e);
            } catch (RuntimeException e) {
                sendError(ex, new ApiException(500, ApiException.SERVER_ERROR, null, null, "server: " + e));
            }
        } catch (IOException e) {
            // the client went away while we answered: nothing left to tell it
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (path.startsWith("/v1/") && auth != null) {
            auth.check(ex.getRequestHeaders().getFirst("Authorization"));
        }
        switch (path) {
            case "/v1/completions" -> {
                requireMethod(method, "POST", path);
                completions(ex);
            }
            case "/v1/models" -> {
                requireMethod(method, "GET", path);
                send(ex, 200, "application/json", CompletionJson.models(modelName, created, context));
            }
            case "/health" -> {
                requireMethod(method, "GET", path);
                send(ex, 200, "application/json", CompletionJson.fields("status", "ok"));
            }
            case "/metrics" -> {
                requireMethod(method, "GET", path);
                send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape().getBytes(StandardCharsets.UTF_8));
            }
            default -> throw new ApiException(404, ApiException.INVALID_REQUEST, null, "not_found", "route: " + method + " "
                    + path + " (expected: POST /v1/completions, GET /v1/models, GET /health or GET /metrics)");
        }
    }

    private static void requireMethod(String method, String expected, String path) {
        if (!expected.equals(method)) {
            throw new ApiException(405, ApiException.INVALID_REQUEST, null, "method_not_allowed",
                    "method: " + method + " " + path + " (expected: " + expected + ")");
        }
    }

    private void completions(HttpExchange ex) throws IOException {
        CompletionRequest req = parser.parse(readBody(ex));
        boolean stream = req.stream();
        if (stream && !streams.tryAcquire()) {
            throw new ApiException(429, ApiException.RATE_LIMIT, null, "rate_limit_exceeded",
                    "streams: " + limits.maxStreams() + " already open (expected: fewer; retry later)");
        }
        try {
            EngineRequest r = engine.submit(req);
            long createdAt = System.currentTimeMillis() / 1000;
            if (stream) {
                stream(ex, r, createdAt);
            } else {
                whole(ex, r, createdAt);
            }
        } finally {
            if (stream) {
                streams.release();
            }
        }
    }

    private byte[] readBody(HttpExchange ex) throws IOException {
        int max = limits.maxBodyBytes();
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(null, "Content-Length: " + declared + " (expected: a number of bytes)");
            }
            if (n > max) {
                throw tooLarge(n + " bytes", max);
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) {
                throw tooLarge("more than " + max + " bytes", max);
            }
            return body;
        }
    }

    private static ApiException tooLarge(String size, int max) {
        return new ApiException(413, ApiException.INVALID_REQUEST, null, "request_too_large",
                "request body: " + size + " (expected: <= " + max + " bytes)");
    }

    private void whole(HttpExchange ex, EngineRequest r, long createdAt) throws IOException {
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        while (true) {
            CompletionEvent ev;
            try {
                ev = r.events().take();
            } catch (InterruptedException e) {
                r.cancel();
                engine.wake();
                Thread.currentThread().interrupt();
                throw new ApiException(503, ApiException.SERVER_ERROR, null, "server_shutting_down", "server: shutting down");
            }
            switch (ev) {
                case CompletionEvent.Token t -> {
                    text.append(t.text());
                    ids.add(t.id());
                }
                case CompletionEvent.Finished f -> {
                    text.append(f.text());
                    send(ex, 200, "application/json", CompletionJson.completion(r.id(), createdAt, modelName, text.toString(),
                            ids, f.finishReason(), f.usage()));
                    return;
                }
                case CompletionEvent.Failed f -> throw f.error();
            }
        }
    }

    private void stream(HttpExchange ex, EngineRequest r, long createdAt) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no");
        List<CompletionEvent> batch = new ArrayList<>();
        try {
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            while (true) {
                CompletionEvent first = r.events().poll(KEEP_ALIVE_MS, TimeUnit.MILLISECONDS);
                if (first == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    continue;
                }
                batch.clear();
                batch.add(first);
                r.events().drainTo(batch);
                for (CompletionEvent ev : batch) {
                    switch (ev) {
                        case CompletionEvent.Token t -> event(out, CompletionJson.chunk(r.id(), createdAt, modelName, t.text(),
                                List.of(t.id()), null));
                        case CompletionEvent.Finished f -> {
                            event(out, CompletionJson.chunk(r.id(), createdAt, modelName, f.text(), List.of(), f.finishReason()));
                            if (r.request().includeUsage()) {
                                event(out, CompletionJson.usageChunk(r.id(), createdAt, modelName, f.usage()));
                            }
                            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            return;
                        }
                        case CompletionEvent.Failed f -> {
                            event(out, CompletionJson.error(f.error()));
                            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            return;
                        }
                    }
                }
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            r.cancel(); // the client went away (or we failed mid-stream): free its K/V at the next step
            engine.wake();
            if (e instanceof IOException io) {
                throw io;
            }
            throw (RuntimeException) e;
        } catch (InterruptedException e) {
            r.cancel();
            engine.wake();
            Thread.currentThread().interrupt();
        }
    }

    private static void event(OutputStream out, byte[] json) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static void sendError(HttpExchange ex, ApiException e) throws IOException {
        if (e.status() == 401) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        }
        if (e.status() == 429) {
            ex.getResponseHeaders().set("Retry-After", "1");
        }
        send(ex, e.status(), "application/json", CompletionJson.error(e));
    }

    /** Stops accepting, ends open exchanges within a second, and stops their threads. */
    @Override
    public void close() {
        http.stop(1);
        executor.shutdownNow();
    }
}
