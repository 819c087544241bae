package io.pagedkv.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Resolves what a user names as a model: a preset name ({@link ModelPresets}) or a path to a
 * Hugging Face {@code config.json}, a GGUF file or a llama2.c checkpoint ({@code .bin}), chosen by
 * file extension. Stateless and thread-safe.
 */
public final class ModelSource {

    private ModelSource() {
    }

    /**
     * The shape named or stored at {@code spec}.
     *
     * @throws IllegalArgumentException for an unknown name, a missing file or an unknown extension
     * @throws IOException when the file cannot be read or is not a valid model file
     */
    public static ModelShape resolve(String spec) throws IOException {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("model: '" + spec + "' (expected: a preset name or a file path)");
        }
        if (ModelPresets.contains(spec)) {
            return ModelPresets.byName(spec);
        }
        String lower = spec.toLowerCase(Locale.ROOT);
        boolean looksLikeFile = lower.endsWith(".json") || lower.endsWith(".gguf") || lower.endsWith(".bin")
                || spec.contains("/") || spec.contains("\\");
        if (!looksLikeFile) {
            return ModelPresets.byName(spec);
        }
        Path file = Path.of(spec);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model: '" + spec + "' (no such file)");
        }
        if (lower.endsWith(".json")) {
            return HfConfigReader.read(file);
        }
        if (lower.endsWith(".gguf")) {
            return GgufReader.readShape(file);
        }
        if (lower.endsWith(".bin")) {
            String name = file.getFileName().toString().replaceFirst("(?i)\\.bin$", "");
            return Llama2cHeader.read(file).toShape(name);
        }
        throw new IllegalArgumentException("model: '" + spec
                + "' (expected: a file ending in .json, .gguf or .bin)");
    }
}
