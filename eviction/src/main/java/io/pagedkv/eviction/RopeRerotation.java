package io.pagedkv.eviction;

/**
 * Re-rotates RoPE keys from the position they were written at to a new position, for StreamingLLM's
 * position rule.
 *
 * <p>RoPE rotates dimension pair i of a key by {@code position * theta^(-2i/d)}; rotations compose, so
 * moving a key from position p to q rotates it by {@code (q - p) * theta^(-2i/d)}. The angle is
 * computed in double and applied in fp32 <b>from the key as written at its original position</b>:
 * callers keep that key (the cache never overwrites it) and re-rotate it once per eviction batch to
 * the token's current position. Rotating an already re-rotated key again and again accumulates
 * rounding error (the keys drift); this API has no way to express that. Stateless and thread-safe.
 */
public final class RopeRerotation {

    private RopeRerotation() {
    }

    /**
     * Writes into {@code out} the key {@code key[offset .. offset + headDim)}, rotated at
     * {@code originalPosition}, as if it had been rotated at {@code newPosition}.
     *
     * @param key the key as written at its original position
     * @param offset where the head starts in {@code key}
     * @param headDim even head dimension
     * @param originalPosition the position it was rotated at
     * @param newPosition the position it must have now
     * @param theta RoPE base (10000 for Llama 2, 500000 for Llama 3)
     * @param style which dimensions pair up
     * @param out receives the re-rotated key at {@code outOffset} (may be {@code key} itself)
     * @param outOffset where to write
     */
    public static void rerotate(float[] key, int offset, int headDim, int originalPosition, int newPosition,
            double theta, RopeStyle style, float[] out, int outOffset) {
        rotate(key, offset, headDim, (double) newPosition - originalPosition, theta, style, out, outOffset);
    }

    /**
     * Fills {@code cos[0 .. headDim/2)} and {@code sin[..]} with the fp32 cosines and sines of pair
     * {@code i}'s angle {@code position * theta^(-2i/headDim)} (computed in double): the table {@link
     * #apply} rotates with, so that an engine moving many keys by the same amount computes the angles
     * once. {@code apply} with this table gives exactly what {@link #rotate} gives.
     *
     * @throws IllegalArgumentException if {@code headDim} is not even and positive, a table is shorter
     *     than {@code headDim / 2}, or {@code theta} is not finite and above 1
     */
    public static void angles(int headDim, double position, double theta, float[] cos, float[] sin) {
        if (headDim <= 0 || (headDim & 1) != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: even and > 0)");
        }
        if (cos.length < headDim / 2 || sin.length < headDim / 2) {
            throw new IllegalArgumentException("cos, sin lengths: " + cos.length + ", " + sin.length + " (expected: >= headDim / 2 = "
                    + headDim / 2 + ")");
        }
        if (!(theta > 1.0) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("theta: " + theta + " (expected: finite and > 1)");
        }
        for (int i = 0; i < headDim / 2; i++) {
            double angle = position * Math.pow(theta, -2.0 * i / headDim);
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates the head {@code key[offset .. offset + headDim)} by the angles of a table from {@link
     * #angles} into {@code out} (may be {@code key} itself): pair {@code (a, b)} becomes {@code (a cos -
     * b sin, a sin + b cos)}. Allocates nothing.
     *
     * @throws IllegalArgumentException if a range is outside its array or {@code style} is null
     */
    public static void apply(float[] key, int offset, int headDim, float[] cos, float[] sin, RopeStyle style, float[] out,
            int outOffset) {
        if (headDim <= 0 || (headDim & 1) != 0 || cos.length < headDim / 2 || sin.length < headDim / 2) {
            throw new IllegalArgumentException("headDim: " + headDim + " with tables of " + cos.length + ", " + sin.length
                    + " (expected: even, > 0, tables >= headDim / 2)");
        }
        if (offset < 0 || offset > key.length - headDim) {
            throw new IllegalArgumentException("offset: " + offset + " (expected: 0 <= offset <= key.length - headDim = "
                    + (key.length - headDim) + ")");
        }
        if (outOffset < 0 || outOffset > out.length - headDim) {
            throw new IllegalArgumentException("outOffset: " + outOffset
                    + " (expected: 0 <= outOffset <= out.length - headDim = " + (out.length - headDim) + ")");
        }
        if (style == null) {
            throw new IllegalArgumentException("style: null (expected: a RopeStyle)");
        }
        int half = headDim / 2;
        boolean interleaved = style == RopeStyle.INTERLEAVED;
        for (int i = 0; i < half; i++) {
            int a = interleaved ? 2 * i : i;
            int b = interleaved ? 2 * i + 1 : i + half;
            float x = key[offset + a];
            float y = key[offset + b];
            out[outOffset + a] = x * cos[i] - y * sin[i];
            out[outOffset + b] = x * sin[i] + y * cos[i];
        }
    }

    /**
     * Rotates a head by {@code position} (the forward RoPE), for tests and for engines that need it:
     * {@code rerotate} of its result equals {@code rotate} at the new position.
     */
    public static void rotate(float[] key, int offset, int headDim, double position, double theta, RopeStyle style,
            float[] out, int outOffset) {
        if (headDim <= 0 || (headDim & 1) != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: even and > 0)");
        }
        if (offset < 0 || offset > key.length - headDim) {
            throw new IllegalArgumentException("offset: " + offset + " (expected: 0 <= offset <= key.length - headDim = "
                    + (key.length - headDim) + ")");
        }
        if (outOffset < 0 || outOffset > out.length - headDim) {
            throw new IllegalArgumentException("outOffset: " + outOffset
                    + " (expected: 0 <= outOffset <= out.length - headDim = " + (out.length - headDim) + ")");
        }
        if (!(theta > 1.0) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("theta: " + theta + " (expected: finite and > 1)");
        }
        if (style == null) {
            throw new IllegalArgumentException("style: null (expected: a RopeStyle)");
        }
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * Math.pow(theta, -2.0 * i / headDim);
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            int a;
            int b;
            if (style == RopeStyle.INTERLEAVED) {
                a = 2 * i;
                b = 2 * i + 1;
            } else {
                a = i;
                b = i + half;
            }
            float x = key[offset + a];
            float y = key[offset + b];
            out[outOffset + a] = x * c - y * s;
            out[outOffset + b] = x * s + y * c;
        }
    }
}
