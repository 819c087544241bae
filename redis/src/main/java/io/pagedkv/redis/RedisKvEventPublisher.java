package io.pagedkv.redis;

import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.KvEvent;
import io.pagedkv.tier.KvEventListener;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes a store's {@link KvEvent}s to a Redis channel (fire and forget, on its own connection) so
 * that a router subscribed to it can see which server holds which prefix block, as vLLM's KV events
 * let a router do. Add it to a store with {@code store.addListener(publisher)}.
 *
 * <p>Each message is one JSON object:
 * <pre>
 * {"server":"gpu-0","event":"stored","medium":"cpu","fingerprint":"a1b2...","hash":"0f1e...",
 *  "parent":"5eedcafef00dd00d","tokens":[1,2,3]}
 * {"server":"gpu-0","event":"removed","medium":"cpu","fingerprint":"a1b2...","hash":"0f1e..."}
 * {"server":"gpu-0","event":"cleared","medium":"cpu"}
 * </pre>
 * Hashes are 16 hex digits. The salt is never published (it keeps tenants apart; the block hash is
 * already salted by the prefix cache). A publish that fails (Redis away) is counted in
 * {@link #failures()} and dropped; events are not buffered. Thread-safe.
 */
public final class RedisKvEventPublisher implements KvEventListener, AutoCloseable {

    private final RedisTierConfig config;
    private final RedisConnections.Client client;
    private final StatefulRedisConnection<String, String> connection;
    private final String channel;
    private final String server;
    private final LongAdder published = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile boolean closed;

    private RedisKvEventPublisher(RedisTierConfig config, RedisConnections.Client client,
            StatefulRedisConnection<String, String> connection, String channel, String server) {
        this.config = config;
        this.client = client;
        this.connection = connection;
        this.channel = channel;
        this.server = server;
    }

    /**
     * Connects a publisher.
     *
     * @param channel the Redis channel, e.g. {@code pagedkv:events}
     * @param serverId this server's name in every message
     * @throws IllegalArgumentException if a name is blank or holds a quote or backslash
     * @throws RedisTierException if Redis cannot be reached or refuses the credentials
     */
    public static RedisKvEventPublisher connect(RedisTierConfig config, String channel, String serverId) {
        checkName("channel", channel);
        checkName("serverId", serverId);
        RedisConnections.Client c = RedisConnections.client(config);
        StatefulRedisConnection<String, String> conn = RedisConnections.connect(c, config,
                cl -> cl.connect(StringCodec.UTF8));
        try {
            conn.sync().ping();
        } catch (RedisException e) {
            conn.close();
            c.shutdown();
            throw new RedisTierException(RedisConnections.describe(config, e), e);
        }
        return new RedisKvEventPublisher(config, c, conn, channel, serverId);
    }

    private static void checkName(String what, String s) {
        if (s == null || s.isBlank() || s.indexOf('"') >= 0 || s.indexOf('\\') >= 0) {
            throw new IllegalArgumentException(what + ": '" + s + "' (expected: non-blank, no quote or backslash)");
        }
    }

    @Override
    public void onEvent(KvEvent event) {
        String json = toJson(server, event);
        try {
            connection.async().publish(channel, json).whenComplete((n, e) -> {
                if (e == null) {
                    published.increment();
                } else {
                    failures.increment();
                }
            });
        } catch (RedisException e) {
            failures.increment();
        }
    }

    /** The JSON message of {@code event} from {@code serverId} (see the class comment). */
    public static String toJson(String serverId, KvEvent event) {
        StringBuilder b = new StringBuilder(96).append("{\"server\":\"").append(serverId).append("\",\"event\":\"");
        switch (event) {
            case KvEvent.BlockStored s -> {
                b.append("stored\",\"medium\":\"").append(s.medium()).append('"');
                key(b, s.key());
                b.append(",\"parent\":\"").append(hex(s.parentHash())).append("\",\"tokens\":[");
                int[] t = s.tokens();
                for (int i = 0; i < t.length; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    b.append(t[i]);
                }
                b.append(']');
            }
            case KvEvent.BlockRemoved r -> {
                b.append("removed\",\"medium\":\"").append(r.medium()).append('"');
                key(b, r.key());
            }
            case KvEvent.AllBlocksCleared c -> b.append("cleared\",\"medium\":\"").append(c.medium()).append('"');
        }
        return b.append('}').toString();
    }

    private static void key(StringBuilder b, BlockKey k) {
        b.append(",\"fingerprint\":\"").append(hex(k.fingerprint())).append("\",\"hash\":\"").append(hex(k.hash()))
                .append('"');
    }

    private static String hex(long v) {
        String s = Long.toHexString(v);
        return "0".repeat(16 - s.length()) + s;
    }

    /** Messages Redis accepted. */
    public long published() {
        return published.sum();
    }

    /** Messages that could not be published (dropped). */
    public long failures() {
        return failures.sum();
    }

    /** Closes the connection. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            connection.close();
            client.shutdown();
        }
    }

    @Override
    public String toString() {
        return "RedisKvEventPublisher[" + config.maskedUrl() + ", channel " + channel + ", server " + server + "]";
    }
}
