package io.pagedkv.model;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header of a GGUF file (llama.cpp's model format) and the attention shape it describes,
 * never the tensor data.
 *
 * <p>Layout read, all little-endian: magic {@code "GGUF"}, {@code uint32} version (2 or 3),
 * {@code uint64} tensor count, {@code uint64} metadata count, the metadata pairs (a string key, a
 * {@code uint32} {@link GgufType} id, the value), then per tensor a string name, a {@code uint32}
 * dimension count, that many {@code uint64} dimensions, a {@code uint32} ggml type and a
 * {@code uint64} data offset.
 *
 * <p>Hostile input is expected: every count and length is checked against the bytes that remain in
 * the file before anything is allocated or looped over, strings are capped at {@link
 * #MAX_STRING_BYTES}, array elements (all arrays together) at {@link #MAX_ARRAY_ELEMENTS} and
 * nesting at {@link #MAX_ARRAY_DEPTH},
 * so a truncated, corrupt or malicious file ends in a {@link ModelFormatException} that names the
 * offset, the value and the limit, never in an {@link OutOfMemoryError} or an endless loop.
 *
 * <p>One instance reads one channel once; not thread-safe. The static methods are thread-safe.
 */
public final class GgufReader {

    /** The magic {@code "GGUF"} as a little-endian int. */
    public static final int MAGIC = 0x46554747;
    /** Longest string accepted (keys, values, tensor names), in bytes. */
    public static final long MAX_STRING_BYTES = 16L << 20;
    /**
     * Most array elements accepted in one header, all arrays together: a large vocabulary's tokens,
     * scores, types and merges come to well under a million, and the cap keeps the heap a hostile
     * file can claim to about a hundred MiB.
     */
    public static final long MAX_ARRAY_ELEMENTS = 1L << 21;
    /** Deepest nesting of arrays accepted. */
    public static final int MAX_ARRAY_DEPTH = 8;
    /** Most dimensions of a tensor (ggml's GGML_MAX_DIMS). */
    public static final int MAX_TENSOR_DIMS = 4;

    private static final int MIN_PAIR_BYTES = 8 + 4 + 1;
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;

    private final SeekableByteChannel channel;
    private final long size;
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    private long bufStart;
    private long arrayElementsLeft = MAX_ARRAY_ELEMENTS;

    private GgufReader(SeekableByteChannel channel) throws IOException {
        this.channel = channel;
        this.size = channel.size();
        this.bufStart = channel.position();
        buf.limit(0);
    }

    /** Reads the header of the GGUF file at {@code file}. */
    public static GgufHeader readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a GGUF header from {@code channel}, starting at its current position. */
    public static GgufHeader readHeader(SeekableByteChannel channel) throws IOException {
        return new GgufReader(channel).header();
    }

    /** Reads the attention shape of the model in the GGUF file at {@code file}, named after the file. */
    public static ModelShape readShape(Path file) throws IOException {
        GgufHeader h = readHeader(file);
        String name = file.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        try {
            return GgufShapes.toShape(h, name);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }

    private GgufHeader header() throws IOException {
        int magic = (int) u32("magic");
        if (magic != MAGIC) {
            throw error(0, "magic: 0x" + Integer.toHexString(magic) + " (expected: 0x" + Integer.toHexString(MAGIC)
                    + ", the bytes 'GGUF'; this is not a GGUF file)");
        }
        long version = u32("version");
        if (version != 2 && version != 3) {
            throw error(4, "version: " + version + " (expected: 2 or 3"
                    + (version > 0xFFFF ? "; a byte-swapped version means a big-endian file, not supported" : "")
                    + (version == 1 ? "; version 1 files are obsolete" : "") + ")");
        }
        long tensorCount = u64("tensor count");
        long pairCount = u64("metadata count");
        checkCount("metadata count", pairCount, MIN_PAIR_BYTES, position() - 8);
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < pairCount; i++) {
            long keyAt = position();
            String key = string("metadata key " + i);
            long typeAt = position();
            GgufType type = type("type of '" + key + "'", typeAt);
            GgufValue value = value(type, key, 0);
            if (metadata.putIfAbsent(key, value) != null) {
                throw error(keyAt, "metadata key '" + key + "' appears twice (expected: unique keys)");
            }
        }
        checkCount("tensor count", tensorCount, MIN_TENSOR_INFO_BYTES, 8);
        long elements = 0;
        for (long t = 0; t < tensorCount; t++) {
            String name = string("tensor name " + t);
            long dimsAt = position();
            long dims = u32("dimension count of tensor '" + name + "'");
            if (dims > MAX_TENSOR_DIMS) {
                throw error(dimsAt, "dimension count of tensor '" + name + "': " + dims
                        + " (expected: <= " + MAX_TENSOR_DIMS + ")");
            }
            long count = 1;
            for (int d = 0; d < dims; d++) {
                long dimAt = position();
                long n = u64("dimension " + d + " of tensor '" + name + "'");
                if (n < 0) {
                    throw error(dimAt, "dimension " + d + " of tensor '" + name + "': " + Long.toUnsignedString(n)
                            + " (expected: < 2^63)");
                }
                count = multiplyOrFail(count, n, dimAt, name);
            }
            u32("ggml type of tensor '" + name + "'");
            u64("data offset of tensor '" + name + "'");
            long before = elements;
            elements += count;
            if (elements < before) {
                throw error(position(), "total tensor elements overflow a long at tensor '" + name + "'");
            }
        }
        return new GgufHeader((int) version, tensorCount, metadata, elements, position());
    }

    private GgufValue value(GgufType type, String key, int depth) throws IOException {
        return switch (type) {
            case UINT8 -> GgufValue.ofInteger(type, Byte.toUnsignedLong(i8(key)));
            case INT8 -> GgufValue.ofInteger(type, i8(key));
            case UINT16 -> GgufValue.ofInteger(type, Short.toUnsignedLong(i16(key)));
            case INT16 -> GgufValue.ofInteger(type, i16(key));
            case UINT32 -> GgufValue.ofInteger(type, u32(key));
            case INT32 -> GgufValue.ofInteger(type, (int) u32(key));
            case UINT64, INT64 -> GgufValue.ofInteger(type, u64(key));
            case FLOAT32 -> new GgufValue(type, Float.intBitsToFloat((int) u32(key)));
            case FLOAT64 -> new GgufValue(type, Double.longBitsToDouble(u64(key)));
            case BOOL -> {
                long at = position();
                byte b = i8(key);
                if (b != 0 && b != 1) {
                    throw error(at, "bool '" + key + "': " + b + " (expected: 0 or 1)");
                }
                yield new GgufValue(type, b == 1);
            }
            case STRING -> GgufValue.ofString(string(key));
            case ARRAY -> array(key, depth);
        };
    }

    private GgufValue array(String key, int depth) throws IOException {
        long at = position();
        if (depth >= MAX_ARRAY_DEPTH) {
            throw error(at, "array '" + key + "' nests " + (depth + 1) + " deep (expected: <= " + MAX_ARRAY_DEPTH + ")");
        }
        GgufType elementType = type("element type of array '" + key + "'", at);
        long countAt = position();
        long count = u64("count of array '" + key + "'");
        if (count < 0 || count > arrayElementsLeft) {
            throw error(countAt, "count of array '" + key + "': " + Long.toUnsignedString(count)
                    + " (expected: <= " + arrayElementsLeft + "; all arrays of a header hold at most "
                    + MAX_ARRAY_ELEMENTS + " elements)");
        }
        arrayElementsLeft -= count;
        checkCount("count of array '" + key + "'", count, elementType.minBytes(), countAt);
        List<GgufValue> elements = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            elements.add(value(elementType, key, depth + 1));
        }
        return GgufValue.ofArray(elementType, elements);
    }

    private GgufType type(String what, long at) throws IOException {
        long id = u32(what);
        GgufType t = GgufType.ofId(id);
        if (t == null) {
            throw error(at, what + ": " + id + " (expected: a GGUF value type 0.." + (GgufType.values().length - 1) + ")");
        }
        return t;
    }

    private void checkCount(String what, long count, int minBytesEach, long at) throws ModelFormatException {
        long remaining = size - position();
        long most = remaining / minBytesEach;
        if (count < 0 || count > most) {
            throw error(at, what + ": " + Long.toUnsignedString(count) + " (expected: <= " + most + ", as each takes at least "
                    + minBytesEach + " bytes and " + remaining + " bytes are left in the file)");
        }
    }

    private String string(String what) throws IOException {
        long at = position();
        long len = u64("length of " + what);
        long remaining = size - position();
        if (len < 0 || len > remaining) {
            throw error(at, "length of " + what + ": " + Long.toUnsignedString(len)
                    + " (expected: <= " + remaining + ", the bytes left in the file)");
        }
        if (len > MAX_STRING_BYTES) {
            throw error(at, "length of " + what + ": " + len + " (expected: <= " + MAX_STRING_BYTES + ")");
        }
        byte[] bytes = new byte[(int) len];
        int off = 0;
        while (off < bytes.length) {
            fill(1, what);
            int n = Math.min(buf.remaining(), bytes.length - off);
            buf.get(bytes, off, n);
            off += n;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private byte i8(String what) throws IOException {
        fill(1, what);
        return buf.get();
    }

    private short i16(String what) throws IOException {
        fill(2, what);
        return buf.getShort();
    }

    private long u32(String what) throws IOException {
        fill(4, what);
        return Integer.toUnsignedLong(buf.getInt());
    }

    private long u64(String what) throws IOException {
        fill(8, what);
        return buf.getLong();
    }

    private long position() {
        return bufStart + buf.position();
    }

    /** Makes at least {@code n} (<= buffer capacity) bytes available, or fails naming what was cut off. */
    private void fill(int n, String what) throws IOException {
        if (buf.remaining() >= n) {
            return;
        }
        long at = position();
        bufStart = at;
        buf.compact();
        try {
            while (buf.position() < n) {
                int r = channel.read(buf);
                if (r < 0) {
                    throw new EOFException();
                }
            }
        } catch (EOFException e) {
            buf.flip();
            throw error(at, "file ends inside " + what + " (truncated: " + size + " bytes, needed "
                    + (at + n) + ")");
        }
        buf.flip();
    }

    private long multiplyOrFail(long a, long b, long at, String name) throws ModelFormatException {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if (hi != 0 || lo < 0) {
            throw error(at, "element count of tensor '" + name + "' overflows a long");
        }
        return lo;
    }

    private static ModelFormatException error(long offset, String message) {
        return new ModelFormatException("GGUF at byte " + offset + ": " + message);
    }
}
