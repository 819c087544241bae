package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/**
 * Found by the step API's stateful test (issue 25, must show 2): when a sequence commits a block
 * whose prefix and tokens another, already indexed block has, its chain adopts that entry instead of
 * indexing its own block. If the adopted block sits unreferenced in the LRU and is reclaimed, the
 * chain ended there for good: the sequence could never index its own identical block nor any later
 * one, so preemption lost its written prefix and a long decode stopped being cacheable.
 */
class PrefixChainAdoptionTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 1, 1, 4), KvDType.F32, 2);

    @Test
    void aChainWhoseAdoptedBlockWasReclaimedIndexesTheSequencesOwnBlockAtItsNextCommit() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 6)) {
            int[] prompt = {5, 6, 7, 8, 9, 10};
            Sequence a = PrefixCacheTest.prefill(cache, prompt, 0);   // blocks a0, a1, a2 (a2 holds 9, 10)
            int a1 = a.blockId(1);
            a.close();                                                   // LRU: a2, a1, a0 (oldest first)
            Sequence b = cache.openSequence(new int[] {5, 6, 7});        // hits a0 only (at most 2 of 3 tokens)
            assertEquals(2, b.reusedTokens());
            b.appendTokens(prompt, 2, 3);                                // 7, 8 | 9
            for (int p = 2; p < 5; p++) {
                io.pagedkv.cache.model.KvPattern.writeToken(b, PrefixCacheTest.salt(prompt, p), p);
            }
            assertEquals(2, b.commitPrefix(), "block 1 of b has a1's prefix and tokens: the chain adopts a1's entry");
            assertNotEquals(a1, b.blockId(1), "b holds its own copy of that content");
            Sequence hog = cache.openSequence();
            assertTrue(hog.tryAppend(3 * 2));                           // the free block, then a2 and a1 reclaimed
            assertFalse(cache.prefix().isIndexed(a1), "a1 was reclaimed, and its entry with it");
            b.commitPrefix();
            b.close();
            hog.close();
            Sequence c = cache.openSequence(new int[] {5, 6, 7, 8, 11});
            assertEquals(4, c.reusedTokens(), "b's own block 1 is indexed now: preempting b kept its written prefix");
            PrefixCacheTest.assertReadsBack(c, new int[] {5, 6, 7, 8});
            c.close();
        }
    }
}
