package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.model.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointReaderTest {

    @TempDir
    Path dir;

    @Test
    void readsBackEveryTensorOfAWrittenCheckpointWithASharedClassifier() throws IOException {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(16, 24, 2, 4, 2, 11, 9, true), 5);
        LlamaWeights r = CheckpointReader.read(CheckpointFiles.write(dir, w));
        assertEquals(w.config(), r.config());
        assertSameTensors(w, r);
        assertSame(r.tokenEmbedding(), r.classifier(), "a shared classifier is the embedding itself");
    }

    @Test
    void readsASeparateClassifierWhenTheVocabSizeIsNegative() throws IOException {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(8, 12, 1, 2, 1, 7, 5, false), 6);
        LlamaWeights r = CheckpointReader.read(CheckpointFiles.write(dir, w));
        assertFalse(r.config().sharedClassifier());
        assertSameTensors(w, r);
        assertArrayEquals(w.classifier(), r.classifier());
    }

    @Test
    void rejectsAFileOneFloatShortNamingBothSizes() throws IOException {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(8, 12, 1, 2, 1, 7, 5, true), 6);
        byte[] b = CheckpointFiles.bytes(w);
        Path f = dir.resolve("short.bin");
        Files.write(f, Arrays.copyOf(b, b.length - 4));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> CheckpointReader.read(f));
        assertTrue(e.getMessage().contains("ends at byte " + (b.length - 4) + " (expected: " + b.length + " bytes"),
                e.getMessage());
    }

    @Test
    void rejectsAHeaderWhoseHeadsDoNotDivideTheWidth() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(10).putInt(12).putInt(1).putInt(3).putInt(1).putInt(7).putInt(5);
        Path f = dir.resolve("bad.bin");
        Files.write(f, h.array());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> CheckpointReader.read(f));
        assertTrue(e.getMessage().contains("at bytes 0-27: bad llama2.c header: dim: 10 (expected: a multiple of heads 3)"),
                e.getMessage());
    }

    @Test
    void rejectsAFileShorterThanTheHeader() throws IOException {
        Path f = dir.resolve("tiny.bin");
        Files.write(f, new byte[5]);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> CheckpointReader.read(f));
        assertTrue(e.getMessage().contains("tiny.bin: ends at byte 5 (expected: a 28-byte llama2.c header"),
                e.getMessage());
    }

    private static void assertSameTensors(LlamaWeights w, LlamaWeights r) {
        assertArrayEquals(w.tokenEmbedding(), r.tokenEmbedding());
        assertArrayEquals(w.rmsFinal(), r.rmsFinal());
        for (int l = 0; l < w.config().layers(); l++) {
            assertArrayEquals(w.rmsAtt()[l], r.rmsAtt()[l]);
            assertArrayEquals(w.wq()[l], r.wq()[l]);
            assertArrayEquals(w.wk()[l], r.wk()[l]);
            assertArrayEquals(w.wv()[l], r.wv()[l]);
            assertArrayEquals(w.wo()[l], r.wo()[l]);
            assertArrayEquals(w.rmsFfn()[l], r.rmsFfn()[l]);
            assertArrayEquals(w.w1()[l], r.w1()[l]);
            assertArrayEquals(w.w2()[l], r.w2()[l]);
            assertArrayEquals(w.w3()[l], r.w3()[l]);
        }
    }
}
