package io.pagedkv.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Attention shapes of well-known models, with the values of their published Hugging Face
 * {@code config.json} files.
 *
 * <p>Each preset's parameter count is the exact count of its weights, computed from the same
 * config (embeddings, attention and MLP matrices, biases, norms; untied output head where the model
 * has one) and matching the published totals, e.g. 8,030,261,248 for Llama-3.1-8B. Names are
 * lower-case and looked up case-insensitively; {@code -} and {@code _} are interchangeable.
 *
 * <p>Stateless and thread-safe.
 */
public final class ModelPresets {

    /** Llama-3.1-8B: 32 layers, 32 query heads, 8 KV heads, head dim 128 (hidden 4096). */
    public static final ModelShape LLAMA_3_1_8B =
            new ModelShape("llama-3.1-8b", 32, 32, 8, 128, 0, AttentionPattern.GLOBAL, 8_030_261_248L);
    /** Llama-3-8B: the same attention shape as Llama-3.1-8B. */
    public static final ModelShape LLAMA_3_8B = LLAMA_3_1_8B.withName("llama-3-8b");
    /** Llama-3.1-70B: 80 layers, 64 query heads, 8 KV heads, head dim 128 (hidden 8192). */
    public static final ModelShape LLAMA_3_1_70B =
            new ModelShape("llama-3.1-70b", 80, 64, 8, 128, 0, AttentionPattern.GLOBAL, 70_553_706_496L);
    /** Llama-3.1-405B: 126 layers, 128 query heads, 8 KV heads, head dim 128 (hidden 16384). */
    public static final ModelShape LLAMA_3_1_405B =
            new ModelShape("llama-3.1-405b", 126, 128, 8, 128, 0, AttentionPattern.GLOBAL, 405_853_388_800L);
    /** Mistral-7B v0.1: 32 layers, 32 query heads, 8 KV heads, head dim 128, sliding window 4096. */
    public static final ModelShape MISTRAL_7B =
            new ModelShape("mistral-7b", 32, 32, 8, 128, 4096, AttentionPattern.SLIDING, 7_241_732_096L);
    /** Mistral-7B v0.3: Mistral-7B without the sliding window (its config has sliding_window null). */
    public static final ModelShape MISTRAL_7B_V0_3 =
            new ModelShape("mistral-7b-v0.3", 32, 32, 8, 128, 0, AttentionPattern.GLOBAL, 7_248_023_552L);
    /** Qwen2.5-7B: 28 layers, 28 query heads, 4 KV heads, head dim 128 (use_sliding_window false). */
    public static final ModelShape QWEN2_5_7B =
            new ModelShape("qwen2.5-7b", 28, 28, 4, 128, 0, AttentionPattern.GLOBAL, 7_615_616_512L);
    /** Qwen2.5-72B: 80 layers, 64 query heads, 8 KV heads, head dim 128. */
    public static final ModelShape QWEN2_5_72B =
            new ModelShape("qwen2.5-72b", 80, 64, 8, 128, 0, AttentionPattern.GLOBAL, 72_706_203_648L);
    /** Gemma-2-9B: 42 layers, 16 query heads, 8 KV heads, head dim 256, even layers slide over 4096. */
    public static final ModelShape GEMMA_2_9B = new ModelShape(
            "gemma-2-9b", 42, 16, 8, 256, 4096, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 9_241_705_984L);
    /**
     * gpt-oss-20b: 24 layers, 64 query heads, 8 KV heads, head dim 64; even layers slide over 128
     * tokens, odd layers are global; a mixture of 32 experts (20,914,757,184 parameters, 3.6B active).
     */
    public static final ModelShape GPT_OSS_20B = new ModelShape(
            "gpt-oss-20b", 24, 64, 8, 64, 128, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 20_914_757_184L);
    /** GPT-2 small: 12 layers, 12 heads, no grouped-query attention, head dim 64. */
    public static final ModelShape GPT2 =
            new ModelShape("gpt2", 12, 12, 12, 64, 0, AttentionPattern.GLOBAL, 124_439_808L);

    private static final Map<String, ModelShape> BY_NAME = index();

    private ModelPresets() {
    }

    /** All presets, in a stable order. */
    public static List<ModelShape> all() {
        return List.copyOf(BY_NAME.values());
    }

    /** The preset names, in a stable order. */
    public static List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(BY_NAME.keySet()));
    }

    /** Whether {@code name} names a preset. */
    public static boolean contains(String name) {
        return name != null && BY_NAME.containsKey(normalize(name));
    }

    /**
     * The preset named {@code name} (case-insensitive, {@code _} for {@code -} accepted).
     *
     * @throws IllegalArgumentException naming the input and every known preset
     */
    public static ModelShape byName(String name) {
        ModelShape shape = name == null ? null : BY_NAME.get(normalize(name));
        if (shape == null) {
            throw new IllegalArgumentException("model: '" + name + "' (expected one of " + String.join(", ", names())
                    + ", or a path to a config.json, .gguf or llama2.c .bin file)");
        }
        return shape;
    }

    private static String normalize(String name) {
        return name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static Map<String, ModelShape> index() {
        Map<String, ModelShape> m = new LinkedHashMap<>();
        for (ModelShape s : List.of(LLAMA_3_1_8B, LLAMA_3_8B, LLAMA_3_1_70B, LLAMA_3_1_405B, MISTRAL_7B,
                MISTRAL_7B_V0_3, QWEN2_5_7B, QWEN2_5_72B, GEMMA_2_9B, GPT_OSS_20B, GPT2)) {
            m.put(s.name(), s);
        }
        return Collections.unmodifiableMap(m);
    }
}
