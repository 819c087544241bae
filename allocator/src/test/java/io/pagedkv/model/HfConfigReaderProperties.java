package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Properties of the config.json reader: whatever the values, a valid shape or a ModelFormatException. */
class HfConfigReaderProperties {

    private static final List<String> KEYS = List.of("num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "hidden_size", "sliding_window", "use_sliding_window", "vocab_size",
            "intermediate_size", "tie_word_embeddings", "model_type", "layer_types", "n_layer", "n_head", "n_embd");

    /** JSON literals of every kind, biased to small positive integers so that valid configs happen. */
    private static final Gen<String> LITERALS = Gens.choose(
            Gens.longs(1, 64).map(String::valueOf),
            Gens.longs(1, 64).map(String::valueOf),
            Gens.longs(1, Integer.MAX_VALUE).map(String::valueOf),
            Gens.longs(Long.MIN_VALUE / 2, Long.MAX_VALUE / 2).map(String::valueOf),
            Gens.constant("123456789012345678901234567890"),
            Gens.finiteFloats(-1e6f, 1e6f).map(String::valueOf),
            Gens.oneOf("null", "true", "false", "\"gemma2\"", "\"qwen2\"", "\"gpt2\"", "\"llama\"", "[]", "{}",
                    "[\"sliding_attention\", \"full_attention\"]", "{\"num_hidden_layers\": 2}"));

    private static final Gen<String> CONFIGS = Gens.lists(Gens.zip(Gens.elements(KEYS), LITERALS, Map::entry), 0, 12)
            .map(entries -> {
                StringBuilder sb = new StringBuilder("{");
                for (Map.Entry<String, String> e : entries) {
                    sb.append(sb.length() > 1 ? ", " : "").append('"').append(e.getKey()).append("\": ")
                            .append(e.getValue());
                }
                return sb.append('}').toString();
            });

    @Test
    void anyConfigGivesAValidShapeOrAModelFormatException() {
        Property.forAll(CONFIGS).check(json -> {
            try {
                ModelShape s = HfConfigReader.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "c");
                assertEquals(0, s.queryHeads() % s.kvHeads());
            } catch (ModelFormatException expected) {
                // a named, checked failure is the only acceptable one
            }
        });
    }
}
