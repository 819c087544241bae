package io.pagedkv.examples.tier;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} (Debian's package) on a free loopback port with its own temporary
 * directory and no persistence, for one test; {@link #stop()} then {@link #start()} on the same port
 * is an outage. The calling test is skipped, with the reason, when there is no redis-server
 * ({@code -Dpagedkv.redis-server=none} simulates that).
 */
final class RedisProcess implements AutoCloseable {

    private final Path binary;
    private final List<String> args;
    private final Path dir;
    final int port;
    private Process process;

    private RedisProcess(Path binary, List<String> args) throws IOException {
        this.binary = binary;
        this.args = args;
        this.dir = Files.createTempDirectory("pagedkv-redis");
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            this.port = s.getLocalPort();
        }
    }

    static Path binary() {
        String forced = System.getProperty("pagedkv.redis-server");
        Path b = null;
        if (forced != null && !forced.isBlank()) {
            b = forced.equals("none") || !Files.isExecutable(Path.of(forced)) ? null : Path.of(forced);
        } else {
            for (String c : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server")) {
                if (Files.isExecutable(Path.of(c))) {
                    b = Path.of(c);
                    break;
                }
            }
        }
        Assumptions.assumeTrue(b != null, "skipped: redis-server not found (/usr/bin, /usr/local/bin): the Redis"
                + " prefix-tier tests need it; install it with: apt-get install -y redis-server");
        return b;
    }

    /** Starts a server with extra {@code args} (for example {@code --maxmemory 2mb}). */
    static RedisProcess launch(String... args) throws IOException, InterruptedException {
        RedisProcess r = new RedisProcess(binary(), List.of(args));
        r.start();
        return r;
    }

    void start() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--bind", "127.0.0.1", "--port",
                Integer.toString(port), "--dir", dir.toString(), "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--loglevel", "warning"));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not start on port " + port + ": "
                        + Files.readString(dir.resolve("redis.log")));
            }
            Thread.sleep(20);
        }
    }

    private boolean answers() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            int c = in.read();
            return c == '+' || c == '-';
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops the server (SIGTERM) and waits for it. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            process.waitFor();
        }
    }

    String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
