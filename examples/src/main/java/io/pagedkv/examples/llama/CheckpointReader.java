package io.pagedkv.examples.llama;

import io.pagedkv.model.ModelFormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a llama2.c checkpoint ({@code .bin}): a header of seven little-endian int32 (dim,
 * hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab size means a
 * separate classifier follows) then the float32 tensors in llama2.c's order. The file is memory
 * mapped and copied once into float arrays; its size must match the header exactly.
 *
 * <p>Stateless and thread-safe.
 */
public final class CheckpointReader {

    /** Bytes of the header. */
    public static final int HEADER_BYTES = 7 * Integer.BYTES;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private CheckpointReader() {
    }

    /** The header's int32 fields in file order; field {@code i} is at byte {@code 4 * i}. */
    private static final String[] HEADER_FIELDS = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
        "vocab_size", "seq_len"};

    /**
     * Reads the checkpoint at {@code file}.
     *
     * @throws ModelFormatException naming the file, the byte offset and what was expected, if the
     *     header is invalid or the size does not match it
     * @throws IOException if the file cannot be read
     */
    public static LlamaWeights read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) {
                throw new ModelFormatException(file + ": ends at byte " + size + " (expected: a " + HEADER_BYTES
                        + "-byte llama2.c header of 7 int32)");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(seg, file.toString());
        }
    }

    /**
     * Parses a checkpoint held in {@code seg}; {@code name} appears in error messages.
     *
     * @throws ModelFormatException naming the byte offset and what was expected
     */
    public static LlamaWeights parse(MemorySegment seg, String name) throws ModelFormatException {
        long size = seg.byteSize();
        if (size < HEADER_BYTES) {
            throw new ModelFormatException(name + ": ends at byte " + size + " (expected: a " + HEADER_BYTES
                    + "-byte llama2.c header of 7 int32)");
        }
        for (int i = 0; i < HEADER_FIELDS.length; i++) {
            int v = seg.get(LE_INT, 4L * i);
            boolean ok = i == 5 ? v != 0 && v != Integer.MIN_VALUE : v > 0; // vocab_size < 0: separate classifier
            if (!ok) {
                throw new ModelFormatException(name + ": at byte " + 4 * i + ": llama2.c header " + HEADER_FIELDS[i]
                        + " = " + v + " (expected: " + (i == 5 ? "non-zero" : "> 0") + "; not a llama2.c checkpoint?)");
            }
        }
        int vocab = seg.get(LE_INT, 20);
        LlamaConfig c;
        try {
            c = new LlamaConfig(seg.get(LE_INT, 0), seg.get(LE_INT, 4), seg.get(LE_INT, 8), seg.get(LE_INT, 12),
                    seg.get(LE_INT, 16), Math.abs(vocab), seg.get(LE_INT, 24), vocab > 0);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(name + ": at bytes 0-" + (HEADER_BYTES - 1) + ": bad llama2.c header: "
                    + e.getMessage() + "; not a llama2.c checkpoint?", e);
        }
        long expected;
        try {
            expected = Math.addExact(HEADER_BYTES, Math.multiplyExact(4L,
                    Math.addExact(c.parameterCount(), (long) c.seqLen() * c.headSize())));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(name + ": at bytes 0-" + (HEADER_BYTES - 1) + ": llama2.c header " + c
                    + " describes more than 2^63 bytes (expected: a real model)", e);
        }
        if (size != expected) {
            throw new ModelFormatException(name + ": ends at byte " + size + " (expected: " + expected
                    + " bytes for the header's " + c + ")");
        }
        Cursor in = new Cursor(seg, HEADER_BYTES);
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        int layers = c.layers();
        float[] embedding = in.floats((long) c.vocabSize() * dim);
        float[][] rmsAtt = in.layers(layers, dim);
        float[][] wq = in.layers(layers, (long) dim * dim);
        float[][] wk = in.layers(layers, (long) kvDim * dim);
        float[][] wv = in.layers(layers, (long) kvDim * dim);
        float[][] wo = in.layers(layers, (long) dim * dim);
        float[][] rmsFfn = in.layers(layers, dim);
        float[][] w1 = in.layers(layers, (long) hidden * dim);
        float[][] w2 = in.layers(layers, (long) dim * hidden);
        float[][] w3 = in.layers(layers, (long) hidden * dim);
        float[] rmsFinal = in.floats(dim);
        in.skip((long) c.seqLen() * c.headSize()); // legacy freq_cis_real and freq_cis_imag, seq x head/2 each
        float[] classifier = c.sharedClassifier() ? embedding : in.floats((long) c.vocabSize() * dim);
        return new LlamaWeights(c, embedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, classifier);
    }

    /** A read position in the mapped file. */
    private static final class Cursor {
        private final MemorySegment seg;
        private long offset;

        Cursor(MemorySegment seg, long offset) {
            this.seg = seg;
            this.offset = offset;
        }

        float[] floats(long count) {
            if (count > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor of " + count + " floats (expected: < 2^31)");
            }
            float[] a = new float[(int) count];
            MemorySegment.copy(seg, LE_FLOAT, offset, a, 0, a.length);
            offset += 4L * count;
            return a;
        }

        float[][] layers(int layers, long count) {
            float[][] a = new float[layers][];
            for (int l = 0; l < layers; l++) {
                a[l] = floats(count);
            }
            return a;
        }

        void skip(long count) {
            offset += 4L * count;
        }
    }
}
