package io.pagedkv.model;

/**
 * Turns GGUF metadata into a {@link ModelShape}, using llama.cpp's key names under the architecture
 * prefix {@code <arch>} from {@code general.architecture}: {@code <arch>.block_count},
 * {@code <arch>.attention.head_count}, {@code <arch>.attention.head_count_kv} (default: the head
 * count), {@code <arch>.embedding_length}, {@code <arch>.attention.key_length} (default: embedding
 * length / heads) and {@code <arch>.attention.sliding_window}.
 *
 * <p>Sliding windows ({@code <arch>.attention.sliding_window}): architectures {@code gemma2} and
 * {@code gpt-oss} alternate sliding (even) and global (odd) layers, as llama.cpp's swa pattern 2 does;
 * {@code gemma3} (5 sliding layers to 1 global) is treated as all-global, an over-estimate; a per-layer
 * {@code <arch>.attention.sliding_window_pattern} flag array (true: the layer slides) is matched
 * against the known patterns (all-global when none fits), a period 2 there alternates; any other architecture with a window slides on every layer. A per-layer KV head count (an array)
 * is reduced to its largest entry, which over-estimates the cache rather than under-estimating it.
 * The parameter count is {@code general.parameter_count} when present, else the total elements of
 * the tensor infos. Stateless and thread-safe.
 */
public final class GgufShapes {

    private GgufShapes() {
    }

    /** The shape described by {@code header}, named {@code name}. */
    public static ModelShape toShape(GgufHeader header, String name) throws ModelFormatException {
        String arch = header.architecture();
        int layers = positiveInt(header, arch + ".block_count", null);
        int heads = positiveInt(header, arch + ".attention.head_count", null);
        int kvHeads = positiveInt(header, arch + ".attention.head_count_kv", heads);
        int headDim;
        if (header.get(arch + ".attention.key_length") != null) {
            headDim = positiveInt(header, arch + ".attention.key_length", null);
        } else {
            int embedding = positiveInt(header, arch + ".embedding_length", null);
            if (embedding % heads != 0) {
                throw new ModelFormatException(arch + ".embedding_length: " + embedding
                        + " is not a multiple of " + arch + ".attention.head_count: " + heads
                        + " (expected: " + arch + ".attention.key_length when the head dim is not their quotient)");
            }
            headDim = embedding / heads;
        }
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(arch + ".attention.head_count: " + heads + " is not a multiple of "
                    + arch + ".attention.head_count_kv: " + kvHeads);
        }
        int window = 0;
        AttentionPattern pattern = AttentionPattern.GLOBAL;
        if (header.get(arch + ".attention.sliding_window") != null) {
            window = positiveInt(header, arch + ".attention.sliding_window", null);
            pattern = switch (arch) {
                case "gemma2", "gpt-oss" -> AttentionPattern.ALTERNATING_SLIDING_GLOBAL;
                case "gemma3" -> AttentionPattern.GLOBAL; // 5 sliding : 1 global, not a pattern we know: over-estimate
                default -> AttentionPattern.SLIDING;
            };
            GgufValue perLayer = header.get(arch + ".attention.sliding_window_pattern");
            if (perLayer != null && perLayer.type() == GgufType.ARRAY) {
                pattern = patternOf(perLayer.asArray(), layers);
            } else if (perLayer != null && perLayer.type().isInteger()) {
                // a period n: layer l slides when l % n < n - 1 (llama.cpp); only n = 2 is a known pattern
                pattern = perLayer.asLong() == 2 ? AttentionPattern.ALTERNATING_SLIDING_GLOBAL : AttentionPattern.GLOBAL;
            }
            if (pattern == AttentionPattern.GLOBAL) {
                window = 0;
            }
        }
        long params = header.tensorElements();
        GgufValue declared = header.get("general.parameter_count");
        if (declared != null && declared.type().isInteger() && (Long) declared.value() > 0) {
            params = (Long) declared.value();
        }
        return new ModelShape(name == null || name.isBlank() ? arch : name, layers, heads, kvHeads, headDim, window,
                pattern, params);
    }

    /**
     * The pattern of a per-layer flag array (true or non-zero: the layer slides), or
     * {@link AttentionPattern#GLOBAL} (an over-estimate) when it matches no known pattern.
     */
    private static AttentionPattern patternOf(GgufArray flags, int layers) {
        if (flags.size() != layers) {
            return AttentionPattern.GLOBAL;
        }
        for (AttentionPattern p : new AttentionPattern[] {AttentionPattern.SLIDING,
                AttentionPattern.ALTERNATING_SLIDING_GLOBAL}) {
            boolean all = true;
            int l = 0;
            for (GgufValue e : flags.elements()) {
                Object v = e.value();
                boolean sliding = v instanceof Boolean b ? b : v instanceof Number n && n.longValue() != 0;
                all &= sliding == p.isSliding(l++);
            }
            if (all) {
                return p;
            }
        }
        return AttentionPattern.GLOBAL;
    }

    private static int positiveInt(GgufHeader h, String key, Integer fallback) throws ModelFormatException {
        GgufValue v = h.get(key);
        if (v == null) {
            if (fallback != null) {
                return fallback;
            }
            throw new ModelFormatException(key + ": missing (expected: a positive integer)");
        }
        long n;
        if (v.type() == GgufType.ARRAY && v.asArray().elementType().isInteger() && v.asArray().size() > 0) {
            n = 0;
            for (GgufValue e : v.asArray().elements()) {
                n = Math.max(n, (Long) e.value() < 0 && e.type() == GgufType.UINT64 ? -1 : (Long) e.value());
                if (n < 0 || (Long) e.value() < 0) {
                    throw new ModelFormatException(key + ": an element is " + e.value() + " (expected: > 0)");
                }
            }
        } else if (v.type().isInteger()) {
            n = v.type() == GgufType.UINT64 && (Long) v.value() < 0 ? -1 : v.asLong();
        } else {
            throw new ModelFormatException(key + ": " + v.type() + " (expected: an integer)");
        }
        if (n <= 0 || n > Integer.MAX_VALUE) {
            throw new ModelFormatException(key + ": " + n + " (expected: 1.." + Integer.MAX_VALUE + ")");
        }
        return (int) n;
    }
}
