package io.pagedkv.cache;

/**
 * Names a full block of tokens for prefix caching: a chained hash of the parent block's hash, the
 * block's token ids and an extra key (a LoRA adapter id, a multimodal input hash, 0 if none).
 *
 * <p>Collisions are allowed: the cache verifies the parent, the extra key and every token id on a
 * hit, so a colliding hash costs a comparison, never another prompt's K/V. Tests inject a
 * deliberately colliding hasher to prove it. Implementations must be pure and thread-safe.
 */
@FunctionalInterface
public interface PrefixHasher {

    /** The parent hash of a sequence's first block. */
    long ROOT = 0x5eed_cafe_f00d_d00dL;

    /** The hash of {@code tokens[from .. from + count)} following a block whose hash is {@code parent}. */
    long hash(long parent, int[] tokens, int from, int count, long extraKey);

    /**
     * The default: a multiply-xorshift chain over the 32-bit token ids, finished with the MurmurHash3
     * 64-bit finalizer (a well-distributed 64-bit hash; allocation-free).
     */
    static PrefixHasher standard() {
        return (parent, tokens, from, count, extraKey) -> {
            long h = parent ^ (extraKey * 0xC2B2AE3D27D4EB4FL) ^ ((long) count << 48);
            for (int i = from; i < from + count; i++) {
                h = (h ^ (tokens[i] & 0xFFFF_FFFFL)) * 0x9E3779B97F4A7C15L;
                h ^= h >>> 29;
            }
            h ^= h >>> 33;
            h *= 0xFF51AFD7ED558CCDL;
            h ^= h >>> 33;
            h *= 0xC4CEB9FE1A85EC53L;
            h ^= h >>> 33;
            return h;
        };
    }
}
