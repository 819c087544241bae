package io.pagedkv.examples.serve;

import java.io.Serial;

/**
 * An error the server answers in OpenAI's error shape,
 * {@code {"error": {"message", "type", "param", "code"}}}, with an HTTP status. Thrown by request
 * parsing, authentication, limits and the engine; the HTTP layer turns it into the response.
 */
public final class ApiException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    /** OpenAI's error type for a request the client got wrong. */
    public static final String INVALID_REQUEST = "invalid_request_error";
    /** Error type of a refused key. */
    public static final String AUTHENTICATION = "authentication_error";
    /** Error type of a request refused because a limit is reached (429). */
    public static final String RATE_LIMIT = "rate_limit_error";
    /** Error type of a failure on the server's side (5xx). */
    public static final String SERVER_ERROR = "server_error";

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    /** An error with HTTP {@code status}, OpenAI {@code type}, the offending {@code param} and a {@code code} (both may be null). */
    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** A 400 invalid_request_error about {@code param}. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, INVALID_REQUEST, param, null, message);
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** OpenAI's error type. */
    public String type() {
        return type;
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }

    /** A machine-readable code, or null. */
    public String code() {
        return code;
    }
}
