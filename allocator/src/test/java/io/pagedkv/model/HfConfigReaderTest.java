package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigReaderTest {

    static final String LLAMA_3_1_8B = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009],
              "hidden_act": "silu",
              "hidden_size": 4096,
              "intermediate_size": 14336,
              "max_position_embeddings": 131072,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 8192, "rope_type": "llama3"},
              "rope_theta": 500000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "vocab_size": 128256
            }
            """;

    static final String GEMMA_2_9B = """
            {"architectures": ["Gemma2ForCausalLM"], "attn_logit_softcapping": 50.0, "cache_implementation": "hybrid",
             "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_size": 3584, "intermediate_size": 14336,
             "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16,
             "num_hidden_layers": 42, "num_key_value_heads": 8, "query_pre_attn_scalar": 256,
             "sliding_window": 4096, "sliding_window_size": 4096, "vocab_size": 256000}
            """;

    static final String QWEN2_5_7B = """
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 3584, "intermediate_size": 18944,
             "max_position_embeddings": 131072, "max_window_layers": 28, "model_type": "qwen2",
             "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
             "sliding_window": 131072, "tie_word_embeddings": false, "use_sliding_window": false,
             "vocab_size": 152064}
            """;

    static final String MISTRAL_7B_V0_1 = """
            {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
             "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "sliding_window": 4096,
             "tie_word_embeddings": false, "vocab_size": 32000}
            """;

    static final String MISTRAL_7B_V0_3 = """
            {"hidden_size": 4096, "intermediate_size": 14336, "model_type": "mistral", "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "sliding_window": null,
             "tie_word_embeddings": false, "vocab_size": 32768}
            """;

    static final String GPT2 = """
            {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
             "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
             "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
             "vocab_size": 50257}
            """;

    @TempDir
    Path dir;

    /** openai/gpt-oss-20b's config.json (the fields this reader uses, with their published values). */
    static final String GPT_OSS_20B = """
            {
              "architectures": ["GptOssForCausalLM"], "attention_bias": true, "head_dim": 64,
              "hidden_size": 2880, "intermediate_size": 2880, "model_type": "gpt_oss",
              "num_attention_heads": 64, "num_hidden_layers": 24, "num_key_value_heads": 8,
              "num_local_experts": 32, "num_experts_per_tok": 4, "sliding_window": 128,
              "tie_word_embeddings": false, "vocab_size": 201088,
              "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "sliding_attention", "full_attention", "sliding_attention", "full_attention"]
            }
            """;

    private static ModelShape read(String json, String name) throws IOException {
        return HfConfigReader.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), name);
    }

    @Test
    void publishedConfigsGiveThePresetsExactlyIncludingParameterCounts() throws IOException {
        assertEquals(ModelPresets.LLAMA_3_1_8B, read(LLAMA_3_1_8B, "llama-3.1-8b"));
        assertEquals(ModelPresets.GEMMA_2_9B, read(GEMMA_2_9B, "gemma-2-9b"));
        assertEquals(ModelPresets.QWEN2_5_7B, read(QWEN2_5_7B, "qwen2.5-7b"));
        assertEquals(ModelPresets.MISTRAL_7B, read(MISTRAL_7B_V0_1, "mistral-7b"));
        assertEquals(ModelPresets.MISTRAL_7B_V0_3, read(MISTRAL_7B_V0_3, "mistral-7b-v0.3"));
        assertEquals(ModelPresets.GPT2, read(GPT2, "gpt2"));
        assertEquals(ModelPresets.GPT_OSS_20B, read(GPT_OSS_20B, "gpt-oss-20b"));
    }

    @Test
    void gptOssAlternatesFromItsModelTypeAloneAndAnotherMixtureOfExpertsHasNoDenseCount() throws IOException {
        String noTypes = GPT_OSS_20B.replaceAll("\"layer_types\": \\[[^\\]]*\\]", "\"layer_types_absent\": 0");
        ModelShape s = read(noTypes, "gpt-oss");
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL, s.pattern());
        assertEquals(128, s.slidingWindow());
        String mixtral = "{\"model_type\": \"mixtral\", \"num_hidden_layers\": 32, \"num_attention_heads\": 32,"
                + " \"num_key_value_heads\": 8, \"hidden_size\": 4096, \"intermediate_size\": 14336,"
                + " \"num_local_experts\": 8, \"vocab_size\": 32000}";
        assertEquals(0, read(mixtral, "mixtral").parameters(), "a dense count would under-count the experts");
    }

    @Test
    void aGemma3PeriodOfSixIsTreatedAsGlobalAndAPeriodOfTwoAlternates() throws IOException {
        String gemma3 = "{\"model_type\": \"gemma3_text\", \"num_hidden_layers\": 6, \"num_attention_heads\": 8,"
                + " \"num_key_value_heads\": 4, \"head_dim\": 256, \"sliding_window\": 1024,"
                + " \"sliding_window_pattern\": 6}";
        ModelShape six = read(gemma3, "g3");
        assertEquals(AttentionPattern.GLOBAL, six.pattern(), "5 sliding : 1 global is not a known pattern: over-estimate");
        assertEquals(0, six.slidingWindow());
        ModelShape two = read(gemma3.replace("\"sliding_window_pattern\": 6", "\"sliding_window_pattern\": 2"), "g2");
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL, two.pattern());
        assertEquals(1024, two.slidingWindow());
    }

    @Test
    void aFileIsNamedAfterItsDirectory() throws IOException {
        Path model = Files.createDirectories(dir.resolve("Meta-Llama-3.1-8B"));
        Path cfg = Files.writeString(model.resolve("config.json"), LLAMA_3_1_8B);
        assertEquals("Meta-Llama-3.1-8B", HfConfigReader.read(cfg).name());
    }

    @Test
    void aTextConfigIsReadFromUnderAMultimodalConfig() throws IOException {
        String json = "{\"model_type\": \"llava\", \"vision_config\": {\"num_hidden_layers\": 24},"
                + " \"text_config\": " + LLAMA_3_1_8B + "}";
        ModelShape s = read(json, "llava");
        assertEquals(32, s.layers());
        assertEquals(8, s.kvHeads());
    }

    @Test
    void layerTypesAreMatchedToAKnownPatternOrTreatedAsGlobal() throws IOException {
        String alt = "{\"num_hidden_layers\": 4, \"num_attention_heads\": 4, \"head_dim\": 64, \"sliding_window\": 512,"
                + " \"layer_types\": [\"sliding_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"]}";
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL, read(alt, "a").pattern());
        String odd = alt.replace("\"full_attention\", \"sliding_attention\", \"full_attention\"",
                "\"sliding_attention\", \"sliding_attention\", \"full_attention\"");
        ModelShape s = read(odd, "b");
        assertEquals(AttentionPattern.GLOBAL, s.pattern());
        assertEquals(0, s.slidingWindow());
    }

    @Test
    void sizesWhoseParameterCountOverflowsAreRefusedNotWrapped() {
        String json = "{\"num_hidden_layers\": 2000000000, \"num_attention_heads\": 1, \"hidden_size\": 2000000000,"
                + " \"intermediate_size\": 2000000000, \"vocab_size\": 2000000000}";
        var e = assertThrows(ModelFormatException.class, () -> read(json, "huge"));
        assertTrue(e.getMessage().contains("parameters (expected: < 2^62)"), e.getMessage());
    }

    @Test
    void missingOrBadFieldsAreNamed() {
        var e = assertThrows(ModelFormatException.class, () -> read("{\"num_attention_heads\": 8, \"head_dim\": 64}", "x"));
        assertTrue(e.getMessage().contains("num_hidden_layers / n_layer missing"), e.getMessage());
        e = assertThrows(ModelFormatException.class,
                () -> read("{\"num_hidden_layers\": -3, \"num_attention_heads\": 8, \"head_dim\": 64}", "x"));
        assertTrue(e.getMessage().contains("num_hidden_layers = -3"), e.getMessage());
        e = assertThrows(ModelFormatException.class,
                () -> read("{\"num_hidden_layers\": 2, \"num_attention_heads\": 8}", "x"));
        assertTrue(e.getMessage().contains("neither head_dim nor hidden_size"), e.getMessage());
        e = assertThrows(ModelFormatException.class,
                () -> read("{\"num_hidden_layers\": 2, \"num_attention_heads\": 8, \"hidden_size\": 100}", "x"));
        assertTrue(e.getMessage().contains("hidden_size 100 is not a multiple"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> read("{\"num_hidden_layers\": 2, ", "x"));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> read("[1, 2]", "x"));
        assertTrue(e.getMessage().contains("expected: a JSON object"), e.getMessage());
    }
}
