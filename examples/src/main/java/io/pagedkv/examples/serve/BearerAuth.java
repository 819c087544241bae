package io.pagedkv.examples.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks {@code Authorization: Bearer <key>} against the server's API key, as vLLM's
 * {@code --api-key} does, in constant time: both sides are hashed with SHA-256 and the digests
 * compared with {@link MessageDigest#isEqual}, so neither the key's content nor its length leaks
 * through timing. Immutable and thread-safe.
 */
final class BearerAuth {

    private static final String PREFIX = "Bearer ";
    private final byte[] expected;

    /**
     * A check for {@code apiKey}.
     *
     * @throws IllegalArgumentException if the key is empty or blank
     */
    BearerAuth(String apiKey) {
        if (apiKey == null || apiKey.isBlank()) {
            throw new IllegalArgumentException("api key: empty (expected: a non-blank key)");
        }
        this.expected = sha256(apiKey);
    }

    /**
     * Checks an {@code Authorization} header value.
     *
     * @throws ApiException 401 when the header is missing, not a bearer token, or the wrong key
     */
    void check(String authorization) {
        if (authorization == null) {
            throw new ApiException(401, ApiException.AUTHENTICATION, null, "invalid_api_key",
                    "authorization: missing (expected: the header Authorization: Bearer <api key>)");
        }
        if (!authorization.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            throw new ApiException(401, ApiException.AUTHENTICATION, null, "invalid_api_key",
                    "authorization: not a bearer token (expected: Authorization: Bearer <api key>)");
        }
        byte[] given = sha256(authorization.substring(PREFIX.length()).trim());
        if (!MessageDigest.isEqual(given, expected)) {
            throw new ApiException(401, ApiException.AUTHENTICATION, null, "invalid_api_key",
                    "authorization: incorrect API key provided");
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256: missing from this JDK", e);
        }
    }
}
