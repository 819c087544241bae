package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPresetsTest {

    @TempDir
    Path dir;

    @Test
    void presetsCarryTheirPublishedShapes() {
        assertEquals(ModelShape.of("llama-3.1-70b", 80, 64, 8, 128), ModelPresets.LLAMA_3_1_70B.withParameters(0));
        assertEquals(ModelShape.of("llama-3.1-405b", 126, 128, 8, 128),
                ModelPresets.LLAMA_3_1_405B.withParameters(0));
        assertEquals(ModelShape.of("qwen2.5-72b", 80, 64, 8, 128), ModelPresets.QWEN2_5_72B.withParameters(0));
        assertEquals(1, ModelPresets.GPT2.queryHeadsPerKvHead());
        assertEquals(21, ModelPresets.GEMMA_2_9B.slidingLayers());
        assertEquals(32, ModelPresets.MISTRAL_7B.slidingLayers());
    }

    @Test
    void lookupIsCaseInsensitiveAndAcceptsUnderscores() {
        assertEquals(ModelPresets.LLAMA_3_1_70B, ModelPresets.byName("Llama-3.1-70B"));
        assertEquals(ModelPresets.GEMMA_2_9B, ModelPresets.byName("gemma_2_9b"));
        assertEquals(11, ModelPresets.all().size());
    }

    @Test
    void anUnknownNameListsEveryKnownName() {
        String m = assertThrows(IllegalArgumentException.class, () -> ModelPresets.byName("llama-4")).getMessage();
        assertTrue(m.contains("'llama-4'"), m);
        for (String n : ModelPresets.names()) {
            assertTrue(m.contains(n), m);
        }
    }

    @Test
    void aSourceIsAPresetOrAFileByExtension() throws IOException {
        assertEquals(ModelPresets.GPT2, ModelSource.resolve("gpt2"));
        Path cfg = Files.createDirectories(dir.resolve("Qwen2.5-7B")).resolve("config.json");
        Files.writeString(cfg, HfConfigReaderTest.QWEN2_5_7B);
        assertEquals(ModelPresets.QWEN2_5_7B.withName("Qwen2.5-7B"), ModelSource.resolve(cfg.toString()));
        String m = assertThrows(IllegalArgumentException.class,
                () -> ModelSource.resolve(dir.resolve("none.gguf").toString())).getMessage();
        assertTrue(m.contains("no such file"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ModelSource.resolve("nope")).getMessage();
        assertTrue(m.contains("'nope'") && m.contains("llama-3.1-8b"), m);
    }
}
