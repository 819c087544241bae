package io.pagedkv.redis;

import io.pagedkv.cache.PrefixHasher;
import io.pagedkv.tier.BlockKey;

/** The prompt and chained block keys of a {@link PeerCache} seed, without any K/V (a reader's view). */
final class PeerKeys {

    final int[] prompt;
    final long[] hashes = new long[PeerCache.BLOCKS + 1];

    PeerKeys(long seed) {
        prompt = TestBlocks.tokens(seed, PeerCache.TOKENS);
        hashes[0] = PrefixHasher.ROOT;
        for (int b = 0; b < PeerCache.BLOCKS; b++) {
            hashes[b + 1] = PrefixHasher.standard().hash(hashes[b], prompt, b * 16, 16, 0);
        }
    }

    BlockKey key(int block) {
        return PeerCache.FINGERPRINT.key(hashes[block + 1], PeerCache.SALT);
    }

    long parent(int block) {
        return hashes[block];
    }
}
