package io.pagedkv.redis;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.BlockStore;
import io.pagedkv.tier.BlockValueFormat;
import io.pagedkv.tier.KvEventHub;
import io.pagedkv.tier.KvEventListener;
import io.pagedkv.tier.TierCounters;
import io.pagedkv.tier.TierStats;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The Redis tier: block values in Redis, one string key per block ({@code <prefix>:kv:<fingerprint>-
 * <salt>-<hash>}, the value exactly the {@link BlockValueFormat} bytes), shared by every server that
 * points at the same Redis, so a prefix computed on one is a hit on another.
 *
 * <h2>Failure behaviour</h2>
 * <ul>
 *   <li>Start-up ({@link #connect}) fails with a {@link RedisTierException} if Redis is unreachable,
 *       refuses the credentials or the TLS handshake: never a silent fallback.</li>
 *   <li>Later, while Redis is away, every call fails at once (the client rejects commands while
 *       disconnected) and is counted ({@link TierStats#errors()}): {@code get} answers
 *       {@link #UNAVAILABLE}, {@code put} false. The client reconnects by itself (exponential delay up
 *       to {@link RedisTierConfig#reconnectDelayMax()}) and calls succeed again.</li>
 *   <li>Redis at {@code maxmemory} with an evicting policy drops keys: a later get is a miss. With
 *       {@code noeviction} a put is refused and counted.</li>
 *   <li>Every value is verified before it is served (framing, CRC32C, fingerprint, parent hash, hash,
 *       salt and token ids): a corrupt value is rejected, counted and deleted, a value of another
 *       model, layout or block is rejected and counted. {@code dst} is written only on a hit.</li>
 * </ul>
 * {@code entries} and {@code bytesUsed} in {@link #stats()} are -1: a shared Redis holds other
 * servers' blocks too. Removals by Redis itself (eviction, TTL) emit no event.
 *
 * <h2>Threading</h2>
 * Thread-safe: one multiplexed Lettuce connection, synchronous calls from any number of threads
 * (transfer workers). Each call allocates its key and value arrays (this tier's cost is the network).
 */
public final class RedisBlockStore implements BlockStore {

    /** The medium name in events and stats. */
    public static final String MEDIUM = "redis";

    private final RedisTierConfig config;
    private final RedisConnections.Client client;
    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final RedisCommands<byte[], byte[]> redis;
    private final String keyPrefix;
    private final TierCounters counters = new TierCounters();
    private final KvEventHub events = new KvEventHub(MEDIUM);
    private volatile boolean closed;

    private RedisBlockStore(RedisTierConfig config, RedisConnections.Client client,
            StatefulRedisConnection<byte[], byte[]> connection) {
        this.config = config;
        this.client = client;
        this.connection = connection;
        this.redis = connection.sync();
        this.keyPrefix = config.keyPrefix() + ":kv:";
    }

    /**
     * Connects to Redis and checks that it answers ({@code PING}).
     *
     * @throws RedisTierException if Redis cannot be reached, refuses the credentials or the TLS handshake
     */
    public static RedisBlockStore connect(RedisTierConfig config) {
        RedisConnections.Client c = RedisConnections.client(config);
        StatefulRedisConnection<byte[], byte[]> conn = RedisConnections.connect(c, config,
                cl -> cl.connect(ByteArrayCodec.INSTANCE));
        try {
            conn.sync().ping();
        } catch (RedisException e) {
            conn.close();
            c.shutdown();
            throw new RedisTierException(RedisConnections.describe(config, e), e);
        }
        return new RedisBlockStore(config, c, conn);
    }

    /** {@link #connect(RedisTierConfig)} with the defaults of {@link RedisTierConfig#of}. */
    public static RedisBlockStore connect(String url) {
        return connect(RedisTierConfig.of(url));
    }

    /** The configuration. */
    public RedisTierConfig config() {
        return config;
    }

    /** The Redis key of a block: {@code <prefix>:kv:<fingerprint>-<salt>-<hash>}. */
    public byte[] redisKey(BlockKey key) {
        return (keyPrefix + key.toHex()).getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String medium() {
        return MEDIUM;
    }

    @Override
    public boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload) {
        BlockStore.checkArgs(key, tokens, from, count, payload, "payload");
        checkOpen();
        long len = BlockValueFormat.HEADER_BYTES + 4L * count + payload.byteSize() + BlockValueFormat.TRAILER_BYTES;
        if (len > BlockValueFormat.MAX_VALUE_BYTES) {
            counters.putRefused();
            return false;
        }
        byte[] value = new byte[(int) len];
        BlockValueFormat.encode(MemorySegment.ofArray(value), key, parentHash, tokens, from, count, payload);
        try {
            String ok = config.ttl() == null ? redis.set(redisKey(key), value)
                    : redis.set(redisKey(key), value, SetArgs.Builder.px(config.ttl().toMillis()));
            if (!"OK".equals(ok)) {
                counters.putRefused();
                return false;
            }
        } catch (RedisException e) {
            counters.error();
            counters.putRefused();
            return false;
        }
        counters.put(payload.byteSize());
        events.stored(key, parentHash, tokens, from, count);
        return true;
    }

    @Override
    public int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        BlockStore.checkArgs(key, tokens, from, count, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: a writable segment)");
        }
        checkOpen();
        byte[] value;
        try {
            value = redis.get(redisKey(key));
        } catch (RedisException e) {
            counters.error();
            return UNAVAILABLE;
        }
        if (value == null) {
            counters.miss();
            return MISS;
        }
        MemorySegment v = MemorySegment.ofArray(value);
        int check = BlockValueFormat.verify(v, key, parentHash, tokens, from, count, dst.byteSize());
        if (check != BlockValueFormat.OK) {
            counters.rejected(check);
            if (check == BlockValueFormat.CORRUPT && deleteQuietly(key)) {
                events.removed(key);
            }
            return REJECTED;
        }
        MemorySegment.copy(v, BlockValueFormat.payloadOffset(count), dst, 0, dst.byteSize());
        counters.hit(dst.byteSize());
        return (int) dst.byteSize();
    }

    private boolean deleteQuietly(BlockKey key) {
        try {
            return redis.del(redisKey(key)) > 0;
        } catch (RedisException e) {
            counters.error();
            return false;
        }
    }

    @Override
    public boolean contains(BlockKey key) {
        checkOpen();
        try {
            return redis.exists(redisKey(key)) > 0;
        } catch (RedisException e) {
            counters.error();
            return false;
        }
    }

    @Override
    public boolean remove(BlockKey key) {
        checkOpen();
        boolean removed;
        try {
            removed = redis.del(redisKey(key)) > 0;
        } catch (RedisException e) {
            counters.error();
            return false;
        }
        if (removed) {
            counters.removal();
            events.removed(key);
        }
        return removed;
    }

    /**
     * Removes every block under this tier's key prefix (other keys of the same Redis stay), with
     * {@code SCAN} and {@code UNLINK} in batches.
     *
     * @throws RedisTierException if Redis is unavailable (a clear is an administrative call)
     */
    @Override
    public void clear() {
        checkOpen();
        try {
            ScanArgs match = ScanArgs.Builder.matches(keyPrefix + "*").limit(1000);
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<byte[]> page = redis.scan(cursor, match);
                List<byte[]> keys = page.getKeys();
                if (!keys.isEmpty()) {
                    redis.unlink(keys.toArray(new byte[0][]));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } catch (RedisException e) {
            counters.error();
            throw new RedisTierException("Redis tier at " + config.maskedUrl() + ": clear failed: " + e.getMessage(),
                    e);
        }
        events.cleared();
    }

    @Override
    public TierStats stats() {
        return counters.snapshot(MEDIUM, -1, -1, -1);
    }

    @Override
    public void addListener(KvEventListener listener) {
        events.add(listener);
    }

    @Override
    public boolean removeListener(KvEventListener listener) {
        return events.remove(listener);
    }

    /** Whether the connection is up now (it reconnects by itself after an outage). */
    public boolean isConnected() {
        return connection.isOpen();
    }

    /** Closes the connection and the client's threads; the blocks stay in Redis. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        connection.close();
        client.shutdown();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("RedisBlockStore " + config.maskedUrl() + ": closed");
        }
    }

    @Override
    public String toString() {
        return "RedisBlockStore[" + config.maskedUrl() + ", prefix " + config.keyPrefix() + "]";
    }
}
