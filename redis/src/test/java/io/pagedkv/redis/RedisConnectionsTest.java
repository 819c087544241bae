package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisConnectionException;
import org.junit.jupiter.api.Test;

/**
 * How start-up failures are named. CI met Lettuce's race once: a wrong password failed the handshake so
 * fast that Lettuce reported only "RedisHandshakeHandler not registered", which this class then called
 * a TLS failure on a plain {@code redis://} URL.
 */
class RedisConnectionsTest {

    static RuntimeException lettuceLostCause(String url) {
        return new RedisConnectionException("Unable to connect to " + url,
                new IllegalStateException(RedisConnections.LOST_CAUSE));
    }

    @Test
    void aLostHandshakeCauseIsRecognisedAndNeverCalledTls() {
        var config = RedisTierConfig.of("redis://:pw@127.0.0.1:6390");
        RuntimeException e = lettuceLostCause("127.0.0.1:6390");
        assertTrue(RedisConnections.lostCause(e));
        String m = RedisConnections.describe(config, e);
        assertFalse(m.contains("TLS"), m);
        assertTrue(m.contains("lost the cause"), m);
        assertTrue(m.contains("redis://:***@127.0.0.1:6390"), m);
    }

    @Test
    void aHandshakeWordIsATlsFailureOnlyForATlsUrl() {
        RuntimeException e = new RedisConnectionException("Unable to connect",
                new IllegalStateException("SSLHandshakeException: PKIX path building failed"));
        assertTrue(RedisConnections.describe(RedisTierConfig.of("rediss://127.0.0.1:6390"), e)
                .contains("the TLS handshake failed"));
        assertFalse(RedisConnections.describe(RedisTierConfig.of("redis://127.0.0.1:6390"), e).contains("TLS"));
        assertFalse(RedisConnections.lostCause(e));
    }
}
