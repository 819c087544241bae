package io.pagedkv.model;

/**
 * The value types of GGUF metadata, with their on-disk ids and the fewest bytes one value occupies.
 *
 * <p>The ids are those of the GGUF specification (versions 2 and 3): integers and floats are
 * little-endian, a bool is one byte (0 or 1), a string is a {@code uint64} byte length then UTF-8
 * bytes, and an array is a {@code uint32} element type, a {@code uint64} count, then the elements.
 * Immutable and thread-safe.
 */
public enum GgufType {
    /** Unsigned 8-bit integer. */
    UINT8(0, 1),
    /** Signed 8-bit integer. */
    INT8(1, 1),
    /** Unsigned 16-bit integer. */
    UINT16(2, 2),
    /** Signed 16-bit integer. */
    INT16(3, 2),
    /** Unsigned 32-bit integer. */
    UINT32(4, 4),
    /** Signed 32-bit integer. */
    INT32(5, 4),
    /** IEEE 754 binary32. */
    FLOAT32(6, 4),
    /** One byte, 0 or 1. */
    BOOL(7, 1),
    /** {@code uint64} length then that many UTF-8 bytes. */
    STRING(8, 8),
    /** {@code uint32} element type, {@code uint64} count, then the elements. */
    ARRAY(9, 12),
    /** Unsigned 64-bit integer. */
    UINT64(10, 8),
    /** Signed 64-bit integer. */
    INT64(11, 8),
    /** IEEE 754 binary64. */
    FLOAT64(12, 8);

    private static final GgufType[] BY_ID = values();

    private final int id;
    private final int minBytes;

    GgufType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The type id stored in the file. */
    public int id() {
        return id;
    }

    /** The fewest bytes one value of this type occupies in a file (a string or array may take more). */
    public int minBytes() {
        return minBytes;
    }

    /** Whether values of this type are integers. */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with id {@code id}, or {@code null} if no type has it. */
    public static GgufType ofId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }
}
