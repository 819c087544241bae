package io.pagedkv.examples.simulate;

import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The model shapes {@code simulate} knows by name (attention shape from each model's published
 * {@code config.json}). Immutable and thread-safe.
 */
public final class ModelLookup {

    private static final Map<String, ModelShape> SHAPES = new LinkedHashMap<>();

    static {
        add(new ModelShape("llama-3.1-8b", 32, 32, 8, 128, 0, AttentionPattern.GLOBAL, 8_030_261_248L));
        add(new ModelShape("llama-3.1-70b", 80, 64, 8, 128, 0, AttentionPattern.GLOBAL, 70_553_706_496L));
        add(new ModelShape("llama-2-7b", 32, 32, 32, 128, 0, AttentionPattern.GLOBAL, 6_738_415_616L));
        add(new ModelShape("mistral-7b", 32, 32, 8, 128, 0, AttentionPattern.GLOBAL, 7_241_732_096L));
        add(new ModelShape("qwen2.5-7b", 28, 28, 4, 128, 0, AttentionPattern.GLOBAL, 7_615_616_512L));
    }

    private ModelLookup() {
    }

    private static void add(ModelShape shape) {
        SHAPES.put(shape.name(), shape);
    }

    /**
     * The shape named {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the input and the known models
     */
    public static ModelShape shape(String name) {
        ModelShape s = SHAPES.get(name == null ? "" : name.trim().toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new IllegalArgumentException("model: '" + name + "' (expected one of " + String.join(", ", SHAPES.keySet()) + ")");
        }
        return s;
    }
}
