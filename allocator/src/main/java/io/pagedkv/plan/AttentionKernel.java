package io.pagedkv.plan;

/**
 * How the prefill attention kernel uses memory, for {@link MemoryPlan#prefillAttentionScratchBytes()}.
 *
 * <ul>
 *   <li>{@link #FLASH}: a FlashAttention-style kernel (FlashAttention, vLLM's and llama.cpp's flash
 *       paths, PyTorch's scaled_dot_product_attention) walks the keys in tiles and keeps each query
 *       row's running maximum and softmax denominator; the score tile lives in on-chip memory and is
 *       never written out, so the extra device memory is two float32 values per query row:
 *       {@code queryHeads * chunk * 2 * 4} bytes. What current engines run; the default.</li>
 *   <li>{@link #EAGER}: a kernel that materialises one layer's score matrix for the chunk,
 *       {@code queryHeads * chunk * context} float32 values, before the softmax (a plain
 *       {@code softmax(Q K^T) V}; the estimate of the planners pagedkv grew from).</li>
 * </ul>
 * Both add the chunk's activations ({@link MemoryPlan#prefillActivationBytes()}).
 */
public enum AttentionKernel {
    /** Tiled online softmax: no score matrix in memory, two floats of statistics per query row. */
    FLASH("flash"),
    /** Materialised scores: one layer's {@code queryHeads x chunk x context} float32 matrix. */
    EAGER("eager");

    private final String label;

    AttentionKernel(String label) {
        this.label = label;
    }

    /** The lower-case name used on the command line and in JSON. */
    public String label() {
        return label;
    }

    /**
     * The kernel named {@code text} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the text and the accepted names
     */
    public static AttentionKernel parse(String text) {
        for (AttentionKernel k : values()) {
            if (k.label.equalsIgnoreCase(text == null ? "" : text.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("attention: " + text + " (expected: flash or eager)");
    }

    @Override
    public String toString() {
        return label;
    }
}
