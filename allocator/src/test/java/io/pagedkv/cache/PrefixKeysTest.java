package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.KvPattern;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/**
 * Issue 24, Must show 3: a per-request salt keeps tenants from sharing prefix blocks at all, and
 * extra keys (an adapter id for the whole sequence, an image hash for a token range) apply to the
 * blocks they cover; all compared exactly, so even a hash that collides on everything cannot mix them.
 */
class PrefixKeysTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);
    static final int[] PROMPT = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

    /** Opens, prefills the rest of the prompt (K/V from {@code salt}) and commits. */
    static Sequence prefill(PagedKvCache cache, PrefixKeys keys, int salt) {
        Sequence s = cache.openSequence(PROMPT, keys);
        s.appendTokens(PROMPT, s.reusedTokens(), PROMPT.length - s.reusedTokens());
        for (int p = s.reusedTokens(); p < PROMPT.length; p++) {
            KvPattern.writeToken(s, salt, p);
        }
        s.commitPrefix();
        return s;
    }

    static int reused(PagedKvCache cache, PrefixKeys keys) {
        try (Sequence s = cache.openSequence(PROMPT, keys)) {
            return s.reusedTokens();
        }
    }

    @Test
    void aSaltedRequestNeverSharesPrefixBlocksWithAnotherSalt() {
        for (PrefixHasher hasher : new PrefixHasher[] {PrefixHasher.standard(), (p, t, f, c, x) -> 42L}) {
            try (PagedKvCache cache = PagedKvCache.builder(LAYOUT, 16).hasher(hasher).build()) {
                prefill(cache, PrefixKeys.salted(0x7e11a17L), 1).close();
                assertEquals(12, reused(cache, PrefixKeys.salted(0x7e11a17L)), "the same tenant reuses its blocks");
                assertEquals(0, reused(cache, PrefixKeys.salted(0xbadL)), "another tenant reuses nothing");
                assertEquals(0, reused(cache, PrefixKeys.NONE), "an unsalted request reuses nothing");
                assertEquals(0, reused(cache, PrefixKeys.of(0x7e11a17L)), "a key equal to the salt is not the salt");
            }
        }
    }

    @Test
    void aWholeSequenceKeyAppliesToEveryBlock() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            prefill(cache, PrefixKeys.of(7), 1).close();
            assertEquals(12, reused(cache, PrefixKeys.of(7)));
            assertEquals(0, reused(cache, PrefixKeys.of(8)), "another adapter: no block in common");
            assertEquals(12, cache.openSequence(PROMPT, 7L).reusedTokens(), "the long overload is the same key");
        }
    }

    @Test
    void anImageKeyAppliesOnlyToTheBlocksItCovers() {
        for (PrefixHasher hasher : new PrefixHasher[] {PrefixHasher.standard(), (p, t, f, c, x) -> 42L}) {
            try (PagedKvCache cache = PagedKvCache.builder(LAYOUT, 16).hasher(hasher).build()) {
                // the image's placeholder tokens are 5 and 6: block 1 (tokens 4..7) only
                prefill(cache, PrefixKeys.NONE.withRange(5, 7, 0x1a6eL), 1).close();
                assertEquals(12, reused(cache, PrefixKeys.NONE.withRange(5, 7, 0x1a6eL)), "the same image: all blocks");
                assertEquals(4, reused(cache, PrefixKeys.NONE.withRange(5, 7, 0x2a6eL)),
                        "another image: the block before it is shared, the block holding it and all after are not");
                assertEquals(4, reused(cache, PrefixKeys.NONE), "no image: the same");
                assertEquals(8, reused(cache, PrefixKeys.NONE.withRange(5, 7, 0x1a6eL).withRange(9, 10, 3L)),
                        "a second range in block 2: blocks 0 and 1 are shared");
            }
        }
    }

    @Test
    void rangesAreKeptSortedSoTheirOrderDoesNotMatter() {
        PrefixKeys a = PrefixKeys.salted(3).withRange(8, 9, 2L).withRange(0, 2, 1L);
        PrefixKeys b = PrefixKeys.salted(3).withRange(0, 2, 1L).withRange(8, 9, 2L);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(2, a.ranges());
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            prefill(cache, a, 1).close();
            assertEquals(12, reused(cache, b));
        }
        assertNotEquals(a, a.withSalt(4));
    }

    @Test
    void badRangesAndNullKeysAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrefixKeys.NONE.withRange(4, 4, 1));
        assertTrue(e.getMessage().contains("[4, 4)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PrefixKeys.NONE.withRange(-1, 2, 1));
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4, KvCodecs.of(KvDType.F32))) {
            assertThrows(IllegalArgumentException.class, () -> cache.openSequence(PROMPT, (PrefixKeys) null));
            assertEquals(0, cache.stats().openSequences());
        }
    }

    @Test
    void blocksCommittedDuringDecodeKeepTheRequestsKeys() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            PrefixKeys tenant = PrefixKeys.salted(99);
            Sequence s = cache.openSequence(new int[] {1, 2, 3}, tenant);
            s.appendTokens(PROMPT, 0, 8); // decoded tokens, then committed block by block
            for (int p = 0; p < 8; p++) {
                KvPattern.writeToken(s, 1, p);
            }
            assertEquals(2, s.commitPrefix());
            s.close();
            assertEquals(8, reused(cache, tenant));
            assertEquals(0, reused(cache, PrefixKeys.NONE));
        }
    }
}
