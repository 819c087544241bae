package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.tier.BlockKey;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access to Redis: a password, an ACL user, TLS. A wrong or missing credential is a clear error at
 * start-up naming the cause and never showing the password; the right one works.
 */
class RedisAccessTest {

    static final BlockKey KEY = new BlockKey(1, 2, 3);
    static final int[] TOKENS = {1, 2, 3, 4};

    static void roundTrip(RedisBlockStore store) {
        assertTrue(store.put(KEY, 0, TOKENS, 0, 4, TestBlocks.payload(9, 256)));
        MemorySegment dst = MemorySegment.ofArray(new byte[256]);
        assertEquals(256, store.get(KEY, 0, TOKENS, 0, 4, dst));
        assertTrue(TestBlocks.holds(dst, 9));
    }

    @Test
    void aWrongPasswordIsAClearStartUpErrorThatNeverShowsThePassword() throws Exception {
        try (RedisServer server = RedisServer.launch("--requirepass", "s3cret-pw")) {
            var wrong = assertThrows(RedisTierException.class,
                    () -> RedisBlockStore.connect(server.url(":not-the-pw")));
            assertTrue(wrong.getMessage().contains("refused the credentials"), wrong.getMessage());
            assertTrue(wrong.getMessage().contains("WRONGPASS"), wrong.getMessage());
            assertTrue(wrong.getMessage().contains("redis://:***@127.0.0.1:" + server.port), wrong.getMessage());
            assertFalse(wrong.getMessage().contains("not-the-pw"), wrong.getMessage());
            var none = assertThrows(RedisTierException.class, () -> RedisBlockStore.connect(server.url()));
            assertTrue(none.getMessage().contains("requires a password"), none.getMessage());
            try (RedisBlockStore store = RedisBlockStore.connect(server.url(":s3cret-pw"))) {
                roundTrip(store);
            }
            var pub = assertThrows(RedisTierException.class,
                    () -> RedisKvEventPublisher.connect(RedisTierConfig.of(server.url(":nope")), "ch", "s1"));
            assertTrue(pub.getMessage().contains("refused the credentials"), pub.getMessage());
        }
    }

    @Test
    void anAclUserWithItsPasswordWorksAndAWrongOneIsRefused() throws Exception {
        try (RedisServer server = RedisServer.launch("--user", "default", "off", "--user", "kvtier", "on", ">kv-pw",
                "~pagedkv:*", "+@all")) {
            try (RedisBlockStore store = RedisBlockStore.connect(server.url("kvtier:kv-pw"))) {
                roundTrip(store);
            }
            var e = assertThrows(RedisTierException.class, () -> RedisBlockStore.connect(server.url("kvtier:bad")));
            assertTrue(e.getMessage().contains("redis://kvtier:***@"), e.getMessage());
            assertTrue(e.getMessage().contains("WRONGPASS"), e.getMessage());
            assertThrows(RedisTierException.class, () -> RedisBlockStore.connect(server.url()),
                    "the default user is off");
        }
    }

    @Test
    void nothingListeningIsAClearStartUpError() throws Exception {
        int port;
        try (RedisServer server = RedisServer.launch()) {
            port = server.port;
        }
        var e = assertThrows(RedisTierException.class, () -> RedisBlockStore.connect("redis://127.0.0.1:" + port));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void badConfigurationNamesTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> RedisTierConfig.of("http://:pw@host"));
        assertTrue(e.getMessage().contains("http://:***@host"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RedisTierConfig.of("redis://h").withKeyPrefix("a b"));
        assertThrows(IllegalArgumentException.class,
                () -> RedisTierConfig.of("redis://h").withCommandTimeout(java.time.Duration.ZERO));
        assertFalse(RedisTierConfig.of("rediss://u:pw@h:1").toString().contains("pw@"));
    }

    static Path openssl() {
        for (String p : new String[] {"/usr/bin/openssl", "/usr/local/bin/openssl"}) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    @Test
    void tlsWithATrustedCertificateWorksAndAnUntrustedOneIsAClearError(@TempDir Path dir) throws Exception {
        RedisServer.requireBinary();
        Path openssl = openssl();
        Assumptions.assumeTrue(openssl != null, "openssl not found: the TLS test is skipped (apt-get install openssl)");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(),
                "-out", cert.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl: " + out);
        try (RedisServer server = RedisServer.launchTls(cert, key, "--requirepass", "tls-pw")) {
            try (RedisBlockStore store = RedisBlockStore.connect(RedisTierConfig.of(server.url(":tls-pw"))
                    .withTrustedCertificates(cert))) {
                assertTrue(store.config().url().startsWith("rediss://"));
                roundTrip(store);
            }
            var e = assertThrows(RedisTierException.class, () -> RedisBlockStore.connect(server.url(":tls-pw")));
            assertTrue(e.getMessage().contains("TLS handshake failed"), e.getMessage());
        } catch (IOException | IllegalStateException e) {
            throw new AssertionError("TLS redis-server: " + e.getMessage(), e);
        }
    }
}
