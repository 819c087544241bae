package io.pagedkv.plan;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;

/**
 * How a model's weights are stored, as an average number of bits per weight.
 *
 * <p>The presets: {@code f32} 32, {@code f16} and {@code bf16} 16, {@code q8_0} 8.5 (34 bytes per 32
 * weights), {@code q4_0} 4.5 (18 bytes per 32), exact by construction; and llama.cpp's k-quant
 * mixtures {@code q6_k} 6.56, {@code q5_k_m} 5.68 and {@code q4_k_m} 4.84 bits per weight, the figures
 * llama.cpp's quantize README ({@code tools/quantize/README.md}, table for Llama-2-7B) reports; a
 * mixture's real average varies a little with the model (a large vocabulary kept at higher precision
 * raises it). Bits are held in ten-thousandths so weight bytes are computed exactly. Immutable and
 * thread-safe.
 *
 * @param name lower-case name, e.g. {@code q4_k_m}
 * @param bitsE4 bits per weight times 10,000, e.g. 48,400 for 4.84
 */
public record WeightFormat(String name, long bitsE4) {

    /** IEEE binary32. */
    public static final WeightFormat F32 = new WeightFormat("f32", 320_000);
    /** IEEE binary16. */
    public static final WeightFormat F16 = new WeightFormat("f16", 160_000);
    /** bfloat16. */
    public static final WeightFormat BF16 = new WeightFormat("bf16", 160_000);
    /** llama.cpp Q8_0: 34 bytes per 32 weights. */
    public static final WeightFormat Q8_0 = new WeightFormat("q8_0", 85_000);
    /** llama.cpp Q6_K mixture, 6.56 bits per weight. */
    public static final WeightFormat Q6_K = new WeightFormat("q6_k", 65_600);
    /** llama.cpp Q5_K_M mixture, 5.68 bits per weight. */
    public static final WeightFormat Q5_K_M = new WeightFormat("q5_k_m", 56_800);
    /** llama.cpp Q4_K_M mixture, 4.84 bits per weight. */
    public static final WeightFormat Q4_K_M = new WeightFormat("q4_k_m", 48_400);
    /** llama.cpp Q4_0: 18 bytes per 32 weights. */
    public static final WeightFormat Q4_0 = new WeightFormat("q4_0", 45_000);

    private static final List<WeightFormat> PRESETS = List.of(F32, F16, BF16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0);

    /** Checks a non-blank name and a bit count in (0, 64]. */
    public WeightFormat {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: non-blank)");
        }
        if (bitsE4 <= 0 || bitsE4 > 640_000) {
            throw new IllegalArgumentException("bits per weight: " + bitsE4 / 10_000.0 + " (expected: > 0 and <= 64)");
        }
    }

    /** The preset formats. */
    public static List<WeightFormat> presets() {
        return PRESETS;
    }

    /** Average bits per weight. */
    public double bitsPerWeight() {
        return bitsE4 / 10_000.0;
    }

    /** Bytes of {@code parameters} weights in this format, rounded up to a whole byte. */
    public long bytesFor(long parameters) {
        if (parameters < 0) {
            throw new IllegalArgumentException("parameters: " + parameters + " (expected: >= 0)");
        }
        return Math.ceilDiv(Math.multiplyExact(parameters, bitsE4), 80_000L);
    }

    /**
     * A preset by name ({@code q4_k_m}, {@code q8_0}, {@code f16}, {@code bf16}, ...), or a custom
     * average such as {@code 5.5bpw}.
     *
     * @throws IllegalArgumentException naming the input and the accepted names
     */
    public static WeightFormat parse(String text) {
        if (text != null) {
            String n = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
            for (WeightFormat f : PRESETS) {
                if (f.name.equals(n) || (n.equals("fp16") && f == F16) || (n.equals("fp32") && f == F32)) {
                    return f;
                }
            }
            if (n.matches("[0-9]+(\\.[0-9]{1,4})?bpw")) {
                BigDecimal bits = new BigDecimal(n.substring(0, n.length() - 3));
                long e4 = bits.movePointRight(4).longValueExact();
                return new WeightFormat(n, e4);
            }
        }
        StringBuilder names = new StringBuilder();
        for (WeightFormat f : PRESETS) {
            names.append(f.name).append(", ");
        }
        throw new IllegalArgumentException("weights: '" + text + "' (expected one of " + names
                + "or bits per weight such as 5.5bpw)");
    }

    @Override
    public String toString() {
        return name;
    }
}
