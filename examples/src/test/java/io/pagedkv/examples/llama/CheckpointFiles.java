package io.pagedkv.examples.llama;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes weights in the llama2.c checkpoint format, for reader tests. */
public final class CheckpointFiles {

    private CheckpointFiles() {
    }

    public static byte[] bytes(LlamaWeights w) {
        LlamaConfig c = w.config();
        long floats = c.parameterCount() + (long) c.seqLen() * c.headSize();
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(CheckpointReader.HEADER_BYTES + 4 * floats))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(c.dim()).putInt(c.hiddenDim()).putInt(c.layers()).putInt(c.heads()).putInt(c.kvHeads())
                .putInt(c.sharedClassifier() ? c.vocabSize() : -c.vocabSize()).putInt(c.seqLen());
        put(b, w.tokenEmbedding());
        put(b, w.rmsAtt());
        put(b, w.wq());
        put(b, w.wk());
        put(b, w.wv());
        put(b, w.wo());
        put(b, w.rmsFfn());
        put(b, w.w1());
        put(b, w.w2());
        put(b, w.w3());
        put(b, w.rmsFinal());
        for (int i = 0; i < c.seqLen() * c.headSize(); i++) {
            b.putFloat(-7f); // legacy rope tables: must be skipped, never read
        }
        if (!c.sharedClassifier()) {
            put(b, w.classifier());
        }
        return b.array();
    }

    static Path write(Path dir, LlamaWeights w) throws IOException {
        Path f = dir.resolve("model.bin");
        Files.write(f, bytes(w));
        return f;
    }

    private static void put(ByteBuffer b, float[][] a) {
        for (float[] x : a) {
            put(b, x);
        }
    }

    private static void put(ByteBuffer b, float[] a) {
        for (float x : a) {
            b.putFloat(x);
        }
    }
}
