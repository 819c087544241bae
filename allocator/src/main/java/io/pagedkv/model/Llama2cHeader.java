package io.pagedkv.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The 28-byte header of a llama2.c checkpoint: seven little-endian int32 values.
 *
 * <p>A negative vocabulary size in the file means the output classifier is stored separately;
 * {@link #vocabSize()} is always the absolute value and {@link #sharedClassifier()} says which.
 * Invariants, checked by {@link #of}: every size is positive, {@code dim} is a multiple of
 * {@code heads} and {@code heads} of {@code kvHeads}. Immutable and thread-safe.
 *
 * @param dim model (embedding) dimension
 * @param hiddenDim MLP hidden dimension
 * @param layers number of layers
 * @param heads number of query heads
 * @param kvHeads number of key/value heads
 * @param vocabSize vocabulary size (positive)
 * @param seqLen maximum sequence length
 * @param sharedClassifier whether the output classifier shares the token embedding
 */
public record Llama2cHeader(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
        boolean sharedClassifier) {

    /** Size of the header in bytes. */
    public static final int BYTES = 28;

    /** A validated header from the seven raw values as stored in the file. */
    public static Llama2cHeader of(int dim, int hiddenDim, int layers, int heads, int kvHeads, int rawVocab, int seqLen)
            throws ModelFormatException {
        requirePositive("dim", dim);
        requirePositive("hidden_dim", hiddenDim);
        requirePositive("n_layers", layers);
        requirePositive("n_heads", heads);
        requirePositive("n_kv_heads", kvHeads);
        requirePositive("seq_len", seqLen);
        if (rawVocab == 0 || rawVocab == Integer.MIN_VALUE) {
            throw new ModelFormatException("llama2.c vocab_size: " + rawVocab + " (expected: non-zero)");
        }
        if (dim % heads != 0) {
            throw new ModelFormatException("llama2.c dim: " + dim + " is not a multiple of n_heads: " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new ModelFormatException("llama2.c n_heads: " + heads + " is not a multiple of n_kv_heads: " + kvHeads);
        }
        return new Llama2cHeader(dim, hiddenDim, layers, heads, kvHeads, Math.abs(rawVocab), seqLen, rawVocab > 0);
    }

    /**
     * Reads and validates the header of the checkpoint at {@code file}, and checks that the file's size
     * is exactly the header plus the float32 weights it announces.
     */
    public static Llama2cHeader read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < BYTES) {
                throw new ModelFormatException(file + ": " + size + " bytes (expected: at least the "
                        + BYTES + "-byte llama2.c header)");
            }
            ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new ModelFormatException(file + ": ends inside the llama2.c header");
                }
            }
            b.flip();
            Llama2cHeader h;
            try {
                h = of(b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt());
            } catch (ModelFormatException e) {
                throw new ModelFormatException(file + ": " + e.getMessage(), e);
            }
            long expected;
            try {
                expected = h.fileBytes();
            } catch (ArithmeticException e) {
                throw new ModelFormatException(file + ": header " + h + " describes more than 2^63 bytes", e);
            }
            if (size != expected) {
                throw new ModelFormatException(file + ": " + size + " bytes (expected: " + expected
                        + " for a llama2.c checkpoint with this header: " + h + ")");
            }
            return h;
        }
    }

    /** Dimension of one attention head: {@code dim / heads}. */
    public int headDim() {
        return dim / heads;
    }

    /** Width of the K (or V) projection: {@code kvHeads * headDim}. */
    public long kvDim() {
        return (long) kvHeads * headDim();
    }

    /**
     * Number of trained parameters (weights and norms; not the legacy RoPE tables).
     *
     * @throws ArithmeticException if the header's sizes overflow a long (no real checkpoint does)
     */
    public long parameters() {
        long d = dim;
        long dd = Math.multiplyExact(d, d);
        long perLayer = Math.addExact(Math.addExact(2 * d + 2 * dd, Math.multiplyExact(2 * kvDim(), d)),
                Math.multiplyExact(3L * hiddenDim, d));
        long embedding = Math.multiplyExact((long) vocabSize, d);
        return Math.addExact(Math.addExact(embedding, Math.multiplyExact(layers, perLayer)),
                d + (sharedClassifier ? 0 : embedding));
    }

    /** Exact size of a checkpoint with this header: header, parameters and the legacy RoPE tables. */
    public long fileBytes() {
        long ropeFloats = (long) seqLen * headDim();
        return Math.addExact(BYTES, Math.multiplyExact(4L, Math.addExact(parameters(), ropeFloats)));
    }

    /** The attention shape of this checkpoint, named {@code name}. */
    public ModelShape toShape(String name) {
        return new ModelShape(name, layers, heads, kvHeads, headDim(), 0, AttentionPattern.GLOBAL, parameters());
    }

    private static void requirePositive(String what, int v) throws ModelFormatException {
        if (v <= 0) {
            throw new ModelFormatException("llama2.c " + what + ": " + v + " (expected: > 0)");
        }
    }
}
