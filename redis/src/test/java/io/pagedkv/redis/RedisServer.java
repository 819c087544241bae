package io.pagedkv.redis;

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
 * A real {@code redis-server} for one test: its own free loopback port, its own temporary directory,
 * no persistence, extra arguments as given (a password, an ACL user, maxmemory, TLS). {@link #stop()}
 * and {@link #start()} again on the same port simulate an outage. Never a mock.
 */
final class RedisServer implements AutoCloseable {

    /** System property naming the redis-server binary ({@code none}: behave as if absent). */
    static final String BINARY_PROP = "pagedkv.redis-server";

    private final Path binary;
    private final List<String> extraArgs;
    private final Path dir;
    private final boolean tls;
    final int port;
    private Process process;

    private RedisServer(Path binary, boolean tls, List<String> extraArgs) throws IOException {
        this.binary = binary;
        this.tls = tls;
        this.extraArgs = extraArgs;
        this.dir = Files.createTempDirectory("pagedkv-redis");
        this.port = freePort();
    }

    /**
     * The redis-server binary, or null: the system property {@value #BINARY_PROP} if set (a path, or
     * {@code none} to run as on a machine without Redis), else /usr/bin, /usr/local/bin or the PATH.
     */
    static Path find() {
        String forced = System.getProperty(BINARY_PROP);
        if (forced != null && !forced.isBlank()) {
            return forced.equals("none") || !Files.isExecutable(Path.of(forced)) ? null : Path.of(forced);
        }
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/bin/redis-server"),
                Path.of("/usr/local/bin/redis-server")));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(":")) {
                if (!d.isEmpty()) {
                    candidates.add(Path.of(d, "redis-server"));
                }
            }
        }
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Skips the calling test, with the reason, when there is no redis-server. */
    static Path requireBinary() {
        Path b = find();
        String why = "redis-server not found (/usr/bin, /usr/local/bin, PATH): the Redis tier tests are skipped; "
                + "install it with: apt-get install -y redis-server";
        if (b == null && !toldSkip) {
            toldSkip = true;
            System.err.println("pagedkv-redis: " + why); // once, so the build log says why
        }
        Assumptions.assumeTrue(b != null, why);
        return b;
    }

    private static volatile boolean toldSkip;

    /** Starts a server with {@code args} (e.g. {@code --requirepass}, {@code s3cret}). */
    static RedisServer launch(String... args) throws IOException, InterruptedException {
        RedisServer s = new RedisServer(requireBinary(), false, List.of(args));
        s.start();
        return s;
    }

    /** Starts a TLS-only server (port = TLS port) with the given certificate, key and extra args. */
    static RedisServer launchTls(Path cert, Path key, String... args) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(),
                "--tls-ca-cert-file", cert.toString(), "--tls-auth-clients", "no"));
        a.addAll(List.of(args));
        RedisServer s = new RedisServer(requireBinary(), true, a);
        s.start();
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts (or restarts, on the same port) the server and waits until it answers. */
    void start() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--bind", "127.0.0.1", "--dir", dir.toString(),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"));
        if (tls) {
            cmd.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port)));
        } else {
            cmd.addAll(List.of("--port", Integer.toString(port)));
        }
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile());
        process = pb.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!answers()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + ": "
                        + Files.readString(dir.resolve("redis.log")));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not answer on port " + port + " within 10 s");
            }
            Thread.sleep(20);
        }
    }

    /** Whether something accepts connections on the port (and, without TLS, answers a PING in any way). */
    private boolean answers() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            if (tls) {
                return true;
            }
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

    /** {@code redis://[auth@]127.0.0.1:port} (or {@code rediss://} for TLS). */
    String url(String auth) {
        return (tls ? "rediss://" : "redis://") + (auth == null ? "" : auth + "@") + "127.0.0.1:" + port;
    }

    /** {@code url(null)}. */
    String url() {
        return url(null);
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
