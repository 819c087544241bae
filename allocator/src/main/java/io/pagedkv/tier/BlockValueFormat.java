package io.pagedkv.tier;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The byte layout of a stored block value, the same in every tier (host memory, file, Redis), all
 * fields little-endian:
 *
 * <pre>
 * offset        size  field
 * 0             4     magic "PKVB" (0x50 0x4B 0x56 0x42)
 * 4             2     format version ({@value #VERSION})
 * 6             2     flags (0)
 * 8             8     layout fingerprint
 * 16            8     parent block hash
 * 24            8     block hash
 * 32            8     salt
 * 40            4     token count n
 * 44            4     payload length p (bytes of K/V)
 * 48            4n    token ids (int32)
 * 48+4n         p     payload: the block's bytes exactly as the pool holds them
 * 48+4n+p       4     CRC32C of bytes [0, 48+4n+p)
 * </pre>
 *
 * <p>A reader accepts a value only if the magic, version, flags and lengths are consistent
 * ({@link #CORRUPT} otherwise), the CRC32C matches ({@link #CORRUPT}), and the fingerprint, parent
 * hash, hash, salt, token count, payload length and every token id equal what the reader expects
 * ({@link #MISMATCH} otherwise). Stateless; the methods are thread-safe on distinct segments.
 */
public final class BlockValueFormat {

    /** The magic, as a little-endian int: bytes "PKVB". */
    public static final int MAGIC = 0x42564B50;
    /** The format version written and accepted. */
    public static final short VERSION = 1;
    /** Bytes before the token ids. */
    public static final int HEADER_BYTES = 48;
    /** Bytes of the checksum trailer. */
    public static final int TRAILER_BYTES = 4;
    /** Largest value this format describes (the payload length is an int32). */
    public static final long MAX_VALUE_BYTES = Integer.MAX_VALUE;

    /** Check result: the value is what the reader asked for. */
    public static final int OK = 0;
    /** Check result: the value is damaged (magic, version, lengths or checksum). */
    public static final int CORRUPT = 1;
    /** Check result: an intact value of another block, layout or salt (header fields or token ids differ). */
    public static final int MISMATCH = 2;

    static final int OFF_MAGIC = 0;
    static final int OFF_VERSION = 4;
    static final int OFF_FLAGS = 6;
    static final int OFF_FINGERPRINT = 8;
    static final int OFF_PARENT = 16;
    static final int OFF_HASH = 24;
    static final int OFF_SALT = 32;
    static final int OFF_COUNT = 40;
    static final int OFF_PAYLOAD_LEN = 44;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockValueFormat() {
    }

    /**
     * Bytes of a value with {@code tokenCount} token ids and {@code payloadBytes} of K/V.
     *
     * @throws IllegalArgumentException if a count is negative or the value would exceed {@link #MAX_VALUE_BYTES}
     */
    public static long valueBytes(int tokenCount, long payloadBytes) {
        if (tokenCount < 0 || payloadBytes < 0) {
            throw new IllegalArgumentException("tokenCount: " + tokenCount + ", payloadBytes: " + payloadBytes
                    + " (expected: >= 0 each)");
        }
        long v = HEADER_BYTES + 4L * tokenCount + payloadBytes + TRAILER_BYTES;
        if (v > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value of " + tokenCount + " tokens and " + payloadBytes
                    + " payload bytes: " + v + " bytes (expected: <= " + MAX_VALUE_BYTES + ")");
        }
        return v;
    }

    /** Offset of the payload in a value with {@code tokenCount} token ids. */
    public static long payloadOffset(int tokenCount) {
        return HEADER_BYTES + 4L * tokenCount;
    }

    /**
     * Writes the header and token ids of a value into {@code out} (at least {@link #payloadOffset}
     * bytes). The caller then copies the payload to {@link #payloadOffset} and writes the checksum
     * with {@link #writeChecksum}, or uses {@link #encode} to do all three.
     */
    public static void writeHeader(MemorySegment out, long base, BlockKey key, long parentHash, int[] tokens, int from,
            int count, long payloadBytes) {
        out.set(INT, base + OFF_MAGIC, MAGIC);
        out.set(SHORT, base + OFF_VERSION, VERSION);
        out.set(SHORT, base + OFF_FLAGS, (short) 0);
        out.set(LONG, base + OFF_FINGERPRINT, key.fingerprint());
        out.set(LONG, base + OFF_PARENT, parentHash);
        out.set(LONG, base + OFF_HASH, key.hash());
        out.set(LONG, base + OFF_SALT, key.salt());
        out.set(INT, base + OFF_COUNT, count);
        out.set(INT, base + OFF_PAYLOAD_LEN, (int) payloadBytes);
        for (int i = 0; i < count; i++) {
            out.set(INT, base + HEADER_BYTES + 4L * i, tokens[from + i]);
        }
    }

    /** Writes {@code crc} as the trailer of the value of {@code valueBytes} bytes at {@code base}. */
    public static void writeChecksum(MemorySegment value, long base, long valueBytes, int crc) {
        value.set(INT, base + valueBytes - TRAILER_BYTES, crc);
    }

    /** The checksum stored in the trailer of the value of {@code valueBytes} bytes at {@code base}. */
    public static int storedChecksum(MemorySegment value, long base, long valueBytes) {
        return value.get(INT, base + valueBytes - TRAILER_BYTES);
    }

    /**
     * Encodes a whole value into {@code out} (exactly {@link #valueBytes} long) and returns it.
     * Allocates a byte-buffer view for the checksum; tiers with a hot path use {@link #writeHeader},
     * their own views and {@link Crc32c}.
     */
    public static MemorySegment encode(MemorySegment out, BlockKey key, long parentHash, int[] tokens, int from,
            int count, MemorySegment payload) {
        long len = valueBytes(count, payload.byteSize());
        if (out.byteSize() != len) {
            throw new IllegalArgumentException("out: " + out.byteSize() + " bytes (expected: " + len + ")");
        }
        writeHeader(out, 0, key, parentHash, tokens, from, count, payload.byteSize());
        MemorySegment.copy(payload, 0, out, payloadOffset(count), payload.byteSize());
        writeChecksum(out, 0, len, Crc32c.of(out, 0, len - TRAILER_BYTES));
        return out;
    }

    /**
     * Checks the framing of a value: magic, version, flags, and that its token count and payload
     * length add up to {@code valueBytes}.
     *
     * @param value holds at least the value's {@link #HEADER_BYTES} header bytes from {@code base}
     * @param base offset of the value in {@code value}
     * @param valueBytes the whole value's length as stored
     * @return {@link #OK} or {@link #CORRUPT}
     */
    public static int checkFraming(MemorySegment value, long base, long valueBytes) {
        if (valueBytes < HEADER_BYTES + TRAILER_BYTES || value.byteSize() - base < HEADER_BYTES) {
            return CORRUPT;
        }
        if (value.get(INT, base + OFF_MAGIC) != MAGIC || value.get(SHORT, base + OFF_VERSION) != VERSION
                || value.get(SHORT, base + OFF_FLAGS) != 0) {
            return CORRUPT;
        }
        int count = value.get(INT, base + OFF_COUNT);
        int payload = value.get(INT, base + OFF_PAYLOAD_LEN);
        if (count < 0 || payload < 0 || HEADER_BYTES + 4L * count + payload + TRAILER_BYTES != valueBytes) {
            return CORRUPT;
        }
        return OK;
    }

    /** The token count of the value at {@code base} whose framing is {@link #OK}. */
    public static int tokenCount(MemorySegment value, long base) {
        return value.get(INT, base + OFF_COUNT);
    }

    /** The payload length of the value at {@code base} whose framing is {@link #OK}. */
    public static int payloadBytes(MemorySegment value, long base) {
        return value.get(INT, base + OFF_PAYLOAD_LEN);
    }

    /**
     * Checks that an intact value is the block the reader asked for: fingerprint, parent hash, hash,
     * salt, token count, payload length and every token id.
     *
     * @param value holds the value's header and token ids from {@code base}
     * @param base offset of the value in {@code value}
     * @return {@link #OK} or {@link #MISMATCH}
     */
    public static int checkIdentity(MemorySegment value, long base, BlockKey key, long parentHash, int[] tokens,
            int from, int count, long payloadBytes) {
        if (value.get(LONG, base + OFF_FINGERPRINT) != key.fingerprint()
                || value.get(LONG, base + OFF_PARENT) != parentHash || value.get(LONG, base + OFF_HASH) != key.hash()
                || value.get(LONG, base + OFF_SALT) != key.salt() || value.get(INT, base + OFF_COUNT) != count
                || value.get(INT, base + OFF_PAYLOAD_LEN) != payloadBytes) {
            return MISMATCH;
        }
        for (int i = 0; i < count; i++) {
            if (value.get(INT, base + HEADER_BYTES + 4L * i) != tokens[from + i]) {
                return MISMATCH;
            }
        }
        return OK;
    }

    /**
     * Verifies a whole value held in one segment: framing, checksum, then identity.
     *
     * @return {@link #OK}, {@link #CORRUPT} or {@link #MISMATCH}
     */
    public static int verify(MemorySegment value, BlockKey key, long parentHash, int[] tokens, int from, int count,
            long payloadBytes) {
        long len = value.byteSize();
        int framing = checkFraming(value, 0, len);
        if (framing != OK) {
            return framing;
        }
        if (Crc32c.of(value, 0, len - TRAILER_BYTES) != storedChecksum(value, 0, len)) {
            return CORRUPT;
        }
        return checkIdentity(value, 0, key, parentHash, tokens, from, count, payloadBytes);
    }

    /**
     * CRC32C (the JDK's intrinsic {@link CRC32C}) over segments and byte-buffer views. The segment
     * form allocates a view; the view form allocates nothing and is what the host tier uses.
     */
    public static final class Crc32c {

        private Crc32c() {
        }

        /** CRC32C of {@code seg[offset, offset + length)}. */
        public static int of(MemorySegment seg, long offset, long length) {
            CRC32C crc = new CRC32C();
            crc.update(seg.asSlice(offset, length).asByteBuffer());
            return (int) crc.getValue();
        }

        /**
         * Feeds {@code view[offset, offset + length)} to {@code crc}, moving the view's position and limit
         * (the caller owns the view; its bounds are restored to the whole buffer).
         */
        public static void update(CRC32C crc, ByteBuffer view, int offset, int length) {
            view.limit(offset + length).position(offset);
            crc.update(view);
            view.clear();
        }
    }
}
