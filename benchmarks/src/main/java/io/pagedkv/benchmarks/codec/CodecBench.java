package io.pagedkv.benchmarks.codec;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvDType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * The shared data of the codec benchmarks: {@link #HEADS} heads of {@link #HEAD_DIM} floats
 * (normally distributed, like keys and values), their encoded form, and a decode buffer. One
 * benchmark operation encodes or decodes all of them, {@link #INPUT_BYTES} bytes of binary32, so
 * that with {@code @OperationsPerInvocation(INPUT_BYTES)} and nanoseconds as the time unit JMH's
 * throughput score reads directly as GB/s of float data. 128 KiB of floats stays in L2.
 */
final class CodecBench {

    /** Head dimension, as in Llama-family models. */
    static final int HEAD_DIM = 128;
    /** Heads per operation. */
    static final int HEADS = 256;
    /** Bytes of binary32 input (encode) or output (decode) per operation. */
    static final int INPUT_BYTES = HEADS * HEAD_DIM * Float.BYTES;

    final KvCodec codec;
    final int headBytes;
    final float[] src;
    final MemorySegment encoded;
    final float[] decoded;
    private final Arena arena;

    CodecBench(KvCodec codec) {
        this.codec = codec;
        KvDType dtype = codec.dtype();
        this.headBytes = dtype.bytesFor(HEAD_DIM);
        this.src = new float[HEADS * HEAD_DIM];
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) (r.nextDouble(-1, 1) + r.nextDouble(-1, 1) + r.nextDouble(-1, 1));
        }
        this.arena = Arena.ofShared();
        this.encoded = arena.allocate((long) HEADS * headBytes, 64);
        this.decoded = new float[HEADS * HEAD_DIM];
        encodeAll();
    }

    /** Encodes every head into its slot; returns a byte of the result. */
    int encodeAll() {
        for (int h = 0; h < HEADS; h++) {
            codec.encode(src, h * HEAD_DIM, HEAD_DIM, encoded, (long) h * headBytes);
        }
        return encoded.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 7);
    }

    /** Decodes every head into the float buffer; returns a value of the result. */
    float decodeAll() {
        for (int h = 0; h < HEADS; h++) {
            codec.decode(encoded, (long) h * headBytes, HEAD_DIM, decoded, h * HEAD_DIM);
        }
        return decoded[HEAD_DIM + 3];
    }

    void close() {
        arena.close();
    }
}
