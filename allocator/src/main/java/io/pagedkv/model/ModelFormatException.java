package io.pagedkv.model;

import java.io.IOException;

/**
 * A model file (GGUF header, {@code config.json}, llama2.c checkpoint) that cannot be read: truncated,
 * corrupt, hostile or missing a field the planner needs. The message names the file position or field,
 * the value found and what was expected.
 */
public final class ModelFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An exception with a message that names the offending value and its limit. */
    public ModelFormatException(String message) {
        super(message);
    }

    /** An exception with a message and the underlying cause. */
    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
