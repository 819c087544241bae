package io.pagedkv.redis;

/**
 * The Redis tier could not start: Redis unreachable, credentials refused (a wrong password is this
 * error at start-up, never a silent fallback to no tier), a TLS handshake that failed. The message
 * names the masked URL and what Redis or the network said.
 */
public final class RedisTierException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An exception with {@code message} and its {@code cause}. */
    public RedisTierException(String message, Throwable cause) {
        super(message, cause);
    }
}
