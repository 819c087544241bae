package io.pagedkv.redis;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to reach Redis and how to name and keep blocks there. Immutable; {@link #of(String)} gives the
 * defaults and the {@code with*} methods change one setting each.
 *
 * <p>The URL is Lettuce's: {@code redis://[[user]:password@]host[:port][/database]} or {@code rediss://...}
 * for TLS; an ACL user and its password go in the user-info part ({@code redis://alice:secret@host:6379}),
 * a password alone as {@code redis://:secret@host}. Messages and {@link #toString()} never show the password.
 *
 * @param url the Redis URL
 * @param keyPrefix the namespace of this tier's keys ({@code <prefix>:kv:<fingerprint>-<salt>-<hash>})
 * @param commandTimeout how long one command may take before it fails as unavailable (a connection's
 *     initialisation, the TLS handshake and AUTH, gets at least 10 s)
 * @param reconnectDelayMax the longest pause between reconnect attempts after Redis went away
 * @param ttl how long Redis keeps a stored block, or null to keep it until evicted
 * @param trustedCertificates a PEM file of the certificates to trust for {@code rediss://}, or null
 *     for the JDK's default trust store
 */
public record RedisTierConfig(String url, String keyPrefix, Duration commandTimeout, Duration reconnectDelayMax,
        Duration ttl, Path trustedCertificates) {

    /** Default {@link #keyPrefix()}. */
    public static final String DEFAULT_PREFIX = "pagedkv";
    /** Default {@link #commandTimeout()}: short, so a stalled Redis costs a miss, not a stalled worker. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);
    /** Default {@link #reconnectDelayMax()}. */
    public static final Duration DEFAULT_RECONNECT_DELAY_MAX = Duration.ofSeconds(1);

    /** Validates every field; the message names the field and never shows the password. */
    public RedisTierConfig {
        if (url == null || !(url.startsWith("redis://") || url.startsWith("rediss://"))) {
            throw new IllegalArgumentException("url: '" + mask(url) + "' (expected: redis://... or rediss://...)");
        }
        if (keyPrefix == null || keyPrefix.isEmpty() || keyPrefix.contains(" ")) {
            throw new IllegalArgumentException("keyPrefix: '" + keyPrefix + "' (expected: non-empty, no spaces)");
        }
        requirePositive("commandTimeout", commandTimeout);
        requirePositive("reconnectDelayMax", reconnectDelayMax);
        if (ttl != null) {
            requirePositive("ttl", ttl);
        }
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
    }

    /** The defaults for {@code url}: prefix {@value #DEFAULT_PREFIX}, 1 s command timeout, no TTL. */
    public static RedisTierConfig of(String url) {
        return new RedisTierConfig(url, DEFAULT_PREFIX, DEFAULT_COMMAND_TIMEOUT, DEFAULT_RECONNECT_DELAY_MAX, null,
                null);
    }

    /** This config with another key prefix. */
    public RedisTierConfig withKeyPrefix(String prefix) {
        return new RedisTierConfig(url, prefix, commandTimeout, reconnectDelayMax, ttl, trustedCertificates);
    }

    /** This config with another command timeout. */
    public RedisTierConfig withCommandTimeout(Duration timeout) {
        return new RedisTierConfig(url, keyPrefix, timeout, reconnectDelayMax, ttl, trustedCertificates);
    }

    /** This config with another longest reconnect delay. */
    public RedisTierConfig withReconnectDelayMax(Duration delay) {
        return new RedisTierConfig(url, keyPrefix, commandTimeout, delay, ttl, trustedCertificates);
    }

    /** This config with a time to live for stored blocks (null: none). */
    public RedisTierConfig withTtl(Duration timeToLive) {
        return new RedisTierConfig(url, keyPrefix, commandTimeout, reconnectDelayMax, timeToLive, trustedCertificates);
    }

    /** This config trusting the certificates of a PEM file for TLS. */
    public RedisTierConfig withTrustedCertificates(Path pem) {
        return new RedisTierConfig(url, keyPrefix, commandTimeout, reconnectDelayMax, ttl, pem);
    }

    /** The URL with any password replaced by {@code ***}. */
    public String maskedUrl() {
        return mask(url);
    }

    static String mask(String url) {
        if (url == null) {
            return "null";
        }
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return url;
        }
        String userInfo = url.substring(scheme + 3, at);
        int colon = userInfo.indexOf(':');
        String user = colon < 0 ? "" : userInfo.substring(0, colon);
        return url.substring(0, scheme + 3) + user + ":***" + url.substring(at);
    }

    @Override
    public String toString() {
        return "RedisTierConfig[url=" + maskedUrl() + ", keyPrefix=" + keyPrefix + ", commandTimeout=" + commandTimeout
                + ", reconnectDelayMax=" + reconnectDelayMax + ", ttl=" + ttl + ", trustedCertificates="
                + trustedCertificates + "]";
    }
}
