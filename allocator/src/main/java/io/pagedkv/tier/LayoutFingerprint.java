package io.pagedkv.tier;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.model.ModelShape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A 64-bit fingerprint of everything that decides the bytes of a stored block: the model's identity
 * (a caller-chosen id: a checkpoint digest, or at least its name), its attention shape (layers, query
 * heads, KV heads, head dim, sliding window and pattern), the KV dtype, the block size, the block
 * order ({@link BlockOrder}: named only when it is not the default, so head-runs fingerprints are
 * those of layouts before the order existed), the codec's
 * scales (per-head FP8 {@link KvScales}, every value by its bits) and {@link #LAYOUT_VERSION}, the
 * version of {@link CacheLayout}'s offset formula. Two caches whose fingerprints differ never read each
 * other's blocks: the fingerprint is part of every {@link BlockKey} and is repeated and checked in
 * every stored value's header.
 *
 * <p>The value is the first 8 bytes (big-endian) of SHA-256 over {@link #description()} followed by
 * the scale bits; {@link #description()} is the human-readable form that error messages show.
 * Immutable and thread-safe.
 *
 * @param value the 64-bit fingerprint
 * @param description what was fingerprinted, e.g. {@code pagedkv-layout/1 model=llama-3.1-8b ...}
 */
public record LayoutFingerprint(long value, String description) {

    /**
     * Version of {@link CacheLayout}'s byte order within a block (layer, K|V, then head and slot in the
     * layout's {@link BlockOrder}). Raise it when a formula changes, so blocks stored by an older build
     * are never read as the new layout.
     */
    public static final int LAYOUT_VERSION = 1;

    /** Validates the description. */
    public LayoutFingerprint {
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("description: '" + description + "' (expected: non-blank)");
        }
    }

    /** The fingerprint of {@code layout} with the shape's name as model id and no codec scales. */
    public static LayoutFingerprint of(CacheLayout layout) {
        return of(layout == null ? null : layout.shape().name(), layout, null);
    }

    /**
     * The fingerprint of a model's KV bytes.
     *
     * @param modelId what identifies the weights (a checkpoint digest is best; the name is the least)
     * @param layout the cache layout
     * @param scales per-head FP8 scales, or null for none (an unscaled codec)
     * @throws IllegalArgumentException if {@code modelId} is blank, {@code layout} is null, or the
     *     scales' shape is not the layout's
     */
    public static LayoutFingerprint of(String modelId, CacheLayout layout, KvScales scales) {
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("modelId: '" + modelId + "' (expected: non-blank)");
        }
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: a CacheLayout)");
        }
        ModelShape s = layout.shape();
        if (scales != null && (scales.layers() != s.layers() || scales.kvHeads() != s.kvHeads())) {
            throw new IllegalArgumentException("scales: " + scales.layers() + " layers x " + scales.kvHeads()
                    + " heads (expected: " + s.layers() + " x " + s.kvHeads() + " of the layout)");
        }
        String text = "pagedkv-layout/" + LAYOUT_VERSION + " model=" + modelId + " dtype=" + layout.dtype().label()
                + " blockSize=" + layout.blockSize() + " layers=" + s.layers() + " queryHeads=" + s.queryHeads()
                + " kvHeads=" + s.kvHeads() + " headDim=" + s.headDim() + " window=" + s.slidingWindow()
                + " pattern=" + s.pattern() + " scales=" + (scales == null ? "none" : "per-head")
                // Only the opt-in order is named, so every head-runs fingerprint (and each block stored under it) stays as it was.
                + (layout.order() == BlockOrder.HEAD_RUNS ? "" : " order=" + layout.order().label());
        MessageDigest sha = sha256();
        sha.update(text.getBytes(StandardCharsets.UTF_8));
        if (scales != null) {
            ByteBuffer bits = ByteBuffer.allocate(8 * s.layers() * s.kvHeads()).order(ByteOrder.LITTLE_ENDIAN);
            for (int l = 0; l < s.layers(); l++) {
                for (int h = 0; h < s.kvHeads(); h++) {
                    bits.putInt(Float.floatToRawIntBits(scales.k(l, h)));
                    bits.putInt(Float.floatToRawIntBits(scales.v(l, h)));
                }
            }
            sha.update(bits.flip());
        }
        long v = ByteBuffer.wrap(sha.digest()).getLong();
        return new LayoutFingerprint(v, text);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /** A key of this fingerprint: {@code new BlockKey(value(), hash, salt)}. */
    public BlockKey key(long hash, long salt) {
        return new BlockKey(value, hash, salt);
    }

    @Override
    public String toString() {
        return BlockKey.hex16(value) + " (" + description + ")";
    }
}
