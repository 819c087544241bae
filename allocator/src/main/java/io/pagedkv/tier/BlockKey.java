package io.pagedkv.tier;

/**
 * The name of one block's K/V in a {@link BlockStore}: the {@link LayoutFingerprint} of the model and
 * layout that wrote the bytes, the block's chained prefix hash (the same 64-bit hash the prefix cache
 * names the block by, which already covers every earlier block and the extra keys), and the request's
 * salt (vLLM's {@code cache_salt}; 0 for none), so that tenants with different salts never share a
 * stored block even if a hash collides.
 *
 * <p>A key only finds a value; the value itself is verified on every read (its header repeats the key,
 * the parent hash and the token ids, and a CRC32C covers it all), so a colliding key costs a miss,
 * never another prompt's K/V. Immutable and thread-safe.
 *
 * @param fingerprint {@link LayoutFingerprint#value()} of the writer's model and layout
 * @param hash the block's chained prefix hash
 * @param salt the request's salt, 0 for none
 */
public record BlockKey(long fingerprint, long hash, long salt) {

    /** Sixteen lower-case hex digits per field, {@code fingerprint-salt-hash}: the file and Redis key form. */
    public String toHex() {
        return hex16(fingerprint) + '-' + hex16(salt) + '-' + hex16(hash);
    }

    /**
     * Parses {@link #toHex()}.
     *
     * @throws IllegalArgumentException naming the text if it is not three dash-separated 16-digit hex fields
     */
    public static BlockKey parseHex(String text) {
        if (text == null || text.length() != 50 || text.charAt(16) != '-' || text.charAt(33) != '-') {
            throw new IllegalArgumentException("block key: '" + text
                    + "' (expected: fingerprint-salt-hash, 16 hex digits each)");
        }
        try {
            return new BlockKey(Long.parseUnsignedLong(text, 0, 16, 16), Long.parseUnsignedLong(text, 34, 50, 16),
                    Long.parseUnsignedLong(text, 17, 33, 16));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("block key: '" + text + "' (expected: hex digits): " + e.getMessage(), e);
        }
    }

    static String hex16(long v) {
        String s = Long.toHexString(v);
        return "0".repeat(16 - s.length()) + s;
    }

    @Override
    public String toString() {
        return "BlockKey[" + toHex() + "]";
    }
}
