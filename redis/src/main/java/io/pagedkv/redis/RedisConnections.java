package io.pagedkv.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The one place that builds Lettuce clients from a {@link RedisTierConfig}: auto-reconnect with a
 * bounded exponential delay, commands rejected at once while disconnected (so a store fails fast and
 * counts instead of queueing behind a dead link), a command timeout, TLS trust, and start-up errors
 * translated into a {@link RedisTierException} that says what went wrong.
 */
final class RedisConnections {

    private RedisConnections() {
    }

    /** A client and its resources, shut down together. */
    record Client(RedisClient client, ClientResources resources) {

        void shutdown() {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    /** The least time a connection's initialisation may take (the command timeout when longer). */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    static Client client(RedisTierConfig config) {
        RedisURI uri;
        try {
            uri = RedisURI.create(config.url());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("url: '" + config.maskedUrl() + "' (expected: a Redis URL): "
                    + e.getMessage(), e);
        }
        // The URI's timeout bounds the connection's initialisation (TLS handshake, AUTH, HELLO), not the
        // commands (TimeoutOptions below): a first TLS handshake on a cold JVM of a loaded machine can take
        // more than the short command timeout, and a refused or unreachable server still fails at once.
        uri.setTimeout(max(config.commandTimeout(), CONNECT_TIMEOUT));
        ClientResources resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(20), config.reconnectDelayMax(), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        RedisClient client = RedisClient.create(resources, uri);
        ClientOptions.Builder options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()));
        if (config.trustedCertificates() != null) {
            options.sslOptions(SslOptions.builder().jdkSslProvider()
                    .trustManager(config.trustedCertificates().toFile()).build());
        }
        client.setOptions(options.build());
        return new Client(client, resources);
    }

    /**
     * Connects with {@code connect}; on failure shuts the client down and throws a
     * {@link RedisTierException} naming the masked URL and the cause.
     */
    static <C extends StatefulConnection<?, ?>> C connect(Client c, RedisTierConfig config,
            Function<RedisClient, C> connect) {
        for (int attempt = 1; ; attempt++) {
            try {
                return connect.apply(c.client());
            } catch (RuntimeException e) {
                if (attempt < LOST_CAUSE_ATTEMPTS && lostCause(e)) {
                    continue;
                }
                c.shutdown();
                throw new RedisTierException(describe(config, e), e);
            }
        }
    }

    /** Lettuce's message when a handshake finished (and its handler left the pipeline) before Lettuce looked. */
    static final String LOST_CAUSE = "RedisHandshakeHandler not registered";

    /** Attempts when Lettuce loses a failed handshake's cause; see {@link #lostCause}. */
    static final int LOST_CAUSE_ATTEMPTS = 3;

    /**
     * Whether Lettuce lost a start-up failure's cause: when the handshake fails fast (a WRONGPASS on a
     * loaded machine), its handler may leave the channel's pipeline before the connect listener runs,
     * and Lettuce then reports only {@value #LOST_CAUSE}. Connecting again shows the real cause.
     */
    static boolean lostCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(LOST_CAUSE)) {
                return true;
            }
        }
        return false;
    }

    static String describe(RedisTierConfig config, Throwable e) {
        StringBuilder chain = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                if (!chain.isEmpty()) {
                    chain.append(": ");
                }
                chain.append(t.getMessage());
            }
        }
        String all = chain.toString();
        String what;
        if (all.contains("WRONGPASS")) {
            what = "Redis refused the credentials (wrong user name or password)";
        } else if (all.contains("NOAUTH")) {
            what = "Redis requires a password and the URL gives none";
        } else if (all.contains("Connection refused")) {
            what = "nothing accepts connections there";
        } else if (all.contains(LOST_CAUSE)) {
            what = "the connection failed during its handshake " + LOST_CAUSE_ATTEMPTS
                    + " times and the client lost the cause (a wrong password, or a server closing connections)";
        } else if (config.url().startsWith("rediss://") && (all.toLowerCase(java.util.Locale.ROOT).contains("ssl")
                || all.toLowerCase(java.util.Locale.ROOT).contains("certificat")
                || all.toLowerCase(java.util.Locale.ROOT).contains("handshake"))) {
            what = "the TLS handshake failed";
        } else {
            what = "cannot connect";
        }
        return "Redis tier at " + config.maskedUrl() + ": " + what + " (" + all.replace(passwordOf(config), "***")
                + ")";
    }

    private static String passwordOf(RedisTierConfig config) {
        String url = config.url();
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return "\u0000";
        }
        String userInfo = url.substring(scheme + 3, at);
        int colon = userInfo.indexOf(':');
        String pw = colon < 0 ? userInfo : userInfo.substring(colon + 1);
        return pw.isEmpty() ? "\u0000" : pw;
    }
}
