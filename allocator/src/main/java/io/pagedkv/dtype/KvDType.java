package io.pagedkv.dtype;

import java.util.Locale;

/**
 * The storage type of cached keys and values, with its exact size.
 *
 * <p>Each dtype stores values in <em>groups</em>: a group of {@link #groupSize()} values takes
 * exactly {@link #bytesPerGroup()} bytes. Plain types have groups of one value; the llama.cpp
 * block types {@link #Q8_0} and {@link #Q4_0} have groups of 32 values that carry an fp16 scale in
 * front, byte for byte as llama.cpp's {@code block_q8_0} and {@code block_q4_0}. A vector (one head
 * of one token) must hold a whole number of groups: {@link #bytesFor(int)} rejects anything else.
 *
 * <p>Immutable and thread-safe.
 */
public enum KvDType {
    /** IEEE 754 binary32, 4 bytes per value. */
    F32("f32", 1, 4),
    /** IEEE 754 binary16, 2 bytes per value. */
    F16("f16", 1, 2),
    /** bfloat16 (the upper half of a binary32), 2 bytes per value. */
    BF16("bf16", 1, 2),
    /** FP8 E4M3, finite-only "FN" variant (max 448, no infinities), 1 byte per value. */
    FP8_E4M3("fp8_e4m3", 1, 1),
    /** FP8 E5M2 (IEEE-like, with infinities), 1 byte per value. */
    FP8_E5M2("fp8_e5m2", 1, 1),
    /** llama.cpp Q8_0: per 32 values an fp16 scale then 32 int8, 34 bytes (8.5 bits per value). */
    Q8_0("q8_0", 32, 34),
    /** llama.cpp Q4_0: per 32 values an fp16 scale then 16 bytes of nibbles, 18 bytes (4.5 bits). */
    Q4_0("q4_0", 32, 18);

    private final String label;
    private final int groupSize;
    private final int bytesPerGroup;

    KvDType(String label, int groupSize, int bytesPerGroup) {
        if (Integer.bitCount(groupSize) != 1) {
            throw new AssertionError("groupSize: " + groupSize + " (expected: a power of two; the codecs' checks rely on it)");
        }
        this.label = label;
        this.groupSize = groupSize;
        this.bytesPerGroup = bytesPerGroup;
    }

    /** The lower-case name used on the command line and in llama.cpp, e.g. {@code q8_0}. */
    public String label() {
        return label;
    }

    /** Number of values that are stored together (1 for plain types, 32 for Q8_0 and Q4_0). */
    public int groupSize() {
        return groupSize;
    }

    /** Exact bytes one group of {@link #groupSize()} values occupies. */
    public int bytesPerGroup() {
        return bytesPerGroup;
    }

    /** Storage cost in bits per value, e.g. 8.5 for Q8_0. */
    public double bitsPerValue() {
        return bytesPerGroup * 8.0 / groupSize;
    }

    /** Whether values are stored in scaled blocks (Q8_0, Q4_0) rather than one by one. */
    public boolean isBlockQuantized() {
        return groupSize > 1;
    }

    /**
     * Exact bytes needed to store a vector of {@code elements} values.
     *
     * @throws IllegalArgumentException if {@code elements} is not positive or is not a multiple of
     *     {@link #groupSize()}; the message names the value and the group size
     */
    public int bytesFor(int elements) {
        if (elements <= 0) {
            throw new IllegalArgumentException("elements: " + elements + " (expected: > 0)");
        }
        if (elements % groupSize != 0) {
            throw new IllegalArgumentException(
                    "elements: " + elements + " is not a multiple of the " + label + " group size "
                            + groupSize + " (a head dim must hold whole " + label + " blocks)");
        }
        return (elements / groupSize) * bytesPerGroup;
    }

    /** Whether a vector of {@code elements} values can be stored in this dtype. */
    public boolean supports(int elements) {
        return elements > 0 && elements % groupSize == 0;
    }

    /**
     * Parses a dtype name as users write it: {@code f32}, {@code f16}/{@code fp16}, {@code bf16},
     * {@code fp8}/{@code fp8_e4m3}, {@code fp8_e5m2}, {@code q8_0}, {@code q4_0} (case-insensitive,
     * {@code -} and {@code _} interchangeable).
     *
     * @throws IllegalArgumentException naming the input and the accepted names
     */
    public static KvDType parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("kv dtype: null (expected one of " + names() + ")");
        }
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        switch (n) {
            case "fp32", "float32", "float" -> n = "f32";
            case "fp16", "float16", "half" -> n = "f16";
            case "bfloat16" -> n = "bf16";
            case "fp8", "fp8_e4m3fn", "e4m3" -> n = "fp8_e4m3";
            case "e5m2" -> n = "fp8_e5m2";
            case "q8", "q80" -> n = "q8_0";
            case "q4", "q40" -> n = "q4_0";
            default -> { }
        }
        for (KvDType t : values()) {
            if (t.label.equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("kv dtype: '" + name + "' (expected one of " + names() + ")");
    }

    private static String names() {
        StringBuilder sb = new StringBuilder();
        for (KvDType t : values()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(t.label);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return label;
    }
}
