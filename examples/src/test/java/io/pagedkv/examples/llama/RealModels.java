package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the real llama2.c models of {@code pagedkv.models.dir}; a test skips when one is absent. */
final class RealModels {

    static final String AIDREAMS = "aidreams260K.bin";
    static final String AIDREAMS_TOKENIZER = "aidreams-tok512.bin";
    static final String STORIES = "stories260K.bin";

    private RealModels() {
    }

    static Path file(String name) {
        String dir = System.getProperty("pagedkv.models.dir", "../../shared/models");
        Path f = Path.of(dir).resolve(name);
        assumeTrue(Files.isReadable(f), "skipped: real model " + f.toAbsolutePath()
                + " is absent (set -Dpagedkv.models.dir to the folder holding the llama2.c tinyllamas files)");
        return f;
    }

    static LlamaWeights weights(String name) throws IOException {
        return CheckpointReader.read(file(name));
    }

    static Tokenizer aidreamsTokenizer() throws IOException {
        return Tokenizer.read(file(AIDREAMS_TOKENIZER), 512);
    }
}
