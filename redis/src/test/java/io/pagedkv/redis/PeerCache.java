package io.pagedkv.redis;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixHasher;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.tier.BlockKey;
import io.pagedkv.tier.LayoutFingerprint;

/**
 * One cache-side client's state for the two-process test: a real {@link PagedKvCache} with a prompt
 * of {@link #TOKENS} tokens whose K/V (F16) come from a seed, the chained block hashes of the prompt
 * ({@link PrefixHasher#standard()}, as the prefix cache names blocks) and their tier keys. Two
 * processes that build it from the same seed hold the same bytes.
 */
final class PeerCache implements AutoCloseable {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("peer-model", 2, 4, 2, 64), KvDType.F16, 16);
    static final LayoutFingerprint FINGERPRINT = LayoutFingerprint.of(LAYOUT);
    static final int TOKENS = 64;
    static final int BLOCKS = TOKENS / 16;
    static final long SALT = 0x7E4A47L;

    final PagedKvCache cache = new PagedKvCache(LAYOUT, 16);
    final Sequence seq;
    final int[] prompt;
    /** {@code hashes[i + 1]} names block i; {@code hashes[0]} is the root. */
    final long[] hashes = new long[BLOCKS + 1];

    PeerCache(long seed) {
        prompt = TestBlocks.tokens(seed, TOKENS);
        seq = cache.openSequence();
        seq.append(TOKENS);
        int width = LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim();
        float[] k = new float[width];
        float[] v = new float[width];
        for (int p = 0; p < TOKENS; p++) {
            for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                for (int i = 0; i < width; i++) {
                    k[i] = (float) Math.sin(seed + p * 0.37 + l * 1.3 + i * 0.011);
                    v[i] = (float) Math.cos(seed * 0.5 + p * 0.21 - l + i * 0.017);
                }
                seq.write(l, p, k, v);
            }
        }
        hashes[0] = PrefixHasher.ROOT;
        PrefixHasher h = PrefixHasher.standard();
        for (int b = 0; b < BLOCKS; b++) {
            hashes[b + 1] = h.hash(hashes[b], prompt, b * 16, 16, 0);
        }
    }

    BlockKey key(int block) {
        return FINGERPRINT.key(hashes[block + 1], SALT);
    }

    long parent(int block) {
        return hashes[block];
    }

    java.lang.foreign.MemorySegment block(int block) {
        return cache.block(seq.blockId(block));
    }

    @Override
    public void close() {
        seq.close();
        cache.close();
    }
}
