package io.pagedkv.model;

import java.util.List;

/**
 * One GGUF metadata value with its type.
 *
 * <p>The Java type of {@link #value()} follows {@link #type()}: every integer type is a {@link Long}
 * (unsigned types zero-extended; a {@code UINT64} above {@link Long#MAX_VALUE} keeps its raw bits),
 * {@code FLOAT32} a {@link Float}, {@code FLOAT64} a {@link Double}, {@code BOOL} a {@link Boolean},
 * {@code STRING} a {@link String} and {@code ARRAY} a {@link GgufArray}. Immutable and thread-safe.
 *
 * @param type the stored type
 * @param value the value, typed as above
 */
public record GgufValue(GgufType type, Object value) {

    /** Checks that the value's Java type matches the stored type. */
    public GgufValue {
        if (type == null || value == null) {
            throw new IllegalArgumentException("type: " + type + ", value: " + value + " (expected: both non-null)");
        }
        Class<?> expected = switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> GgufArray.class;
        };
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException("value: " + value.getClass().getSimpleName() + " for type " + type
                    + " (expected: " + expected.getSimpleName() + ")");
        }
    }

    /** The integer value; a {@code UINT64} must fit a signed long. */
    public long asLong() {
        if (!type.isInteger()) {
            throw new IllegalStateException("type: " + type + " (expected: an integer type)");
        }
        long v = (Long) value;
        if (type == GgufType.UINT64 && v < 0) {
            throw new IllegalStateException("uint64 value " + Long.toUnsignedString(v) + " does not fit a long");
        }
        return v;
    }

    /** The numeric value as a double (integers and floats). */
    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            default -> asLong();
        };
    }

    /** The string value. */
    public String asString() {
        if (type != GgufType.STRING) {
            throw new IllegalStateException("type: " + type + " (expected: STRING)");
        }
        return (String) value;
    }

    /** The boolean value. */
    public boolean asBoolean() {
        if (type != GgufType.BOOL) {
            throw new IllegalStateException("type: " + type + " (expected: BOOL)");
        }
        return (Boolean) value;
    }

    /** The array value. */
    public GgufArray asArray() {
        if (type != GgufType.ARRAY) {
            throw new IllegalStateException("type: " + type + " (expected: ARRAY)");
        }
        return (GgufArray) value;
    }

    /** An integer value of an integer type. */
    public static GgufValue ofInteger(GgufType type, long v) {
        if (!type.isInteger()) {
            throw new IllegalArgumentException("type: " + type + " (expected: an integer type)");
        }
        return new GgufValue(type, v);
    }

    /** A string value. */
    public static GgufValue ofString(String s) {
        return new GgufValue(GgufType.STRING, s);
    }

    /** An array value. */
    public static GgufValue ofArray(GgufType elementType, List<GgufValue> elements) {
        return new GgufValue(GgufType.ARRAY, new GgufArray(elementType, elements));
    }
}
