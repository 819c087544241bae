package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cHeaderTest {

    @TempDir
    Path dir;

    private static Path model(String file) {
        Path p = Path.of(System.getProperty("pagedkv.models.dir", "../shared/models"), file);
        assumeTrue(Files.isRegularFile(p), "real model " + p + " is absent (set -Dpagedkv.models.dir); skipping");
        return p;
    }

    @Test
    void stories260kHasGroupedQueryAttention() throws IOException {
        Path p = model("stories260K.bin");
        Llama2cHeader h = Llama2cHeader.read(p);
        assertEquals(Llama2cHeader.of(64, 172, 5, 8, 4, 512, 512), h);
        assertEquals(Files.size(p), h.fileBytes());
        assertEquals(260_032, h.parameters());
        ModelShape s = h.toShape("stories260K");
        assertEquals(ModelShape.of("stories260K", 5, 8, 4, 8).withParameters(260_032), s);
    }

    @Test
    void aidreams260kHasMultiHeadAttention() throws IOException {
        Path p = model("aidreams260K.bin");
        Llama2cHeader h = Llama2cHeader.read(p);
        assertEquals(Llama2cHeader.of(64, 172, 4, 4, 4, 512, 128), h);
        assertEquals(4, ModelSource.resolve(p.toString()).layers());
    }

    private Path file(int[] header, long extraBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : header) {
            b.putInt(v);
        }
        byte[] bytes = new byte[(int) (28 + extraBytes)];
        System.arraycopy(b.array(), 0, bytes, 0, 28);
        return Files.write(dir.resolve("m.bin"), bytes);
    }

    @Test
    void aNegativeVocabMeansASeparateClassifier() throws IOException {
        Llama2cHeader shared = Llama2cHeader.of(16, 32, 1, 2, 1, 10, 4);
        Llama2cHeader separate = Llama2cHeader.of(16, 32, 1, 2, 1, -10, 4);
        assertEquals(shared.parameters() + 160, separate.parameters());
        Path p = file(new int[] {16, 32, 1, 2, 1, -10, 4}, separate.fileBytes() - 28);
        assertEquals(separate, Llama2cHeader.read(p));
    }

    @Test
    void aFileOfTheWrongSizeOrWithBadFieldsIsRejected() throws IOException {
        Path p = file(new int[] {16, 32, 1, 2, 1, 10, 4}, 100);
        var e = assertThrows(ModelFormatException.class, () -> Llama2cHeader.read(p));
        assertTrue(e.getMessage().contains("128 bytes (expected: "), e.getMessage());
        Path bad = file(new int[] {16, 32, 1, 3, 1, 10, 4}, 0);
        e = assertThrows(ModelFormatException.class, () -> Llama2cHeader.read(bad));
        assertTrue(e.getMessage().contains("dim: 16 is not a multiple of n_heads: 3"), e.getMessage());
        Path neg = file(new int[] {16, 32, -1, 2, 1, 10, 4}, 0);
        e = assertThrows(ModelFormatException.class, () -> Llama2cHeader.read(neg));
        assertTrue(e.getMessage().contains("n_layers: -1"), e.getMessage());
        Path huge = file(new int[] {1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1}, 0);
        e = assertThrows(ModelFormatException.class, () -> Llama2cHeader.read(huge));
        assertTrue(e.getMessage().contains("more than 2^63 bytes"), e.getMessage());
        Path tiny = Files.write(dir.resolve("tiny.bin"), new byte[5]);
        e = assertThrows(ModelFormatException.class, () -> Llama2cHeader.read(tiny));
        assertTrue(e.getMessage().contains("5 bytes"), e.getMessage());
    }
}
