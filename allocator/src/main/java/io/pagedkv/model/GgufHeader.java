package io.pagedkv.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header of a GGUF file: version, tensor count, the metadata key/value pairs in file order, and
 * what the tensor infos say about the weights (their total element count), read without touching the
 * tensor data. Immutable and thread-safe.
 *
 * @param version the format version (2 or 3)
 * @param tensorCount number of tensors the file declares
 * @param metadata the metadata pairs, in file order, unmodifiable
 * @param tensorElements total elements of all tensors (the parameter count), from the tensor infos
 * @param headerBytes bytes from the start of the file to the end of the tensor infos
 */
public record GgufHeader(int version, long tensorCount, Map<String, GgufValue> metadata, long tensorElements,
        long headerBytes) {

    /** Copies the metadata into an unmodifiable map that keeps file order. */
    public GgufHeader {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The value of {@code key}, or {@code null} if absent. */
    public GgufValue get(String key) {
        return metadata.get(key);
    }

    /** The architecture, from {@code general.architecture}, e.g. {@code llama}. */
    public String architecture() throws ModelFormatException {
        GgufValue v = metadata.get("general.architecture");
        if (v == null || v.type() != GgufType.STRING) {
            throw new ModelFormatException("general.architecture: " + (v == null ? "missing" : v.type())
                    + " (expected: a STRING such as 'llama')");
        }
        return v.asString();
    }
}
