package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.KvPattern;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Prefix caching: reuse, LRU reclaim with descendants, copy-on-write, collisions, reset, switch, stats. */
class PrefixCacheTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);

    /** The K/V an engine would compute for position {@code p} of {@code tokens}: depends on the whole prefix. */
    static int salt(int[] tokens, int p) {
        return Math.floorMod(Arrays.hashCode(Arrays.copyOf(tokens, p + 1)), 997);
    }

    /** Opens, appends the rest of the prompt, writes K/V of the new tokens and commits, as an engine would. */
    static Sequence prefill(PagedKvCache cache, int[] prompt, long extra) {
        Sequence s = cache.openSequence(prompt, extra);
        int reused = s.reusedTokens();
        s.appendTokens(prompt, reused, prompt.length - reused);
        for (int p = reused; p < prompt.length; p++) {
            KvPattern.writeToken(s, salt(prompt, p), p);
        }
        s.commitPrefix();
        return s;
    }

    static void assertReadsBack(Sequence s, int[] prompt) {
        for (int p = 0; p < prompt.length; p++) {
            KvPattern.assertToken(s, salt(prompt, p), p);
        }
    }

    static int[] prompt(int... tokens) {
        return tokens;
    }

    static void assertConservation(PagedKvCache cache) {
        CacheStats st = cache.stats();
        assertEquals(st.totalBlocks(), st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation " + st);
    }

    @Test
    void aSecondPromptWithTheSamePrefixReusesItsFullBlocks() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
            int[] b = prompt(1, 2, 3, 4, 5, 6, 7, 8, 42, 43, 44);
            Sequence sa = prefill(cache, a, 0);
            assertEquals(0, sa.reusedTokens());
            Sequence sb = prefill(cache, b, 0);
            assertEquals(8, sb.reusedTokens());
            assertEquals(sa.blockId(0), sb.blockId(0));
            assertEquals(sa.blockId(1), sb.blockId(1));
            assertNotEquals(sa.blockId(2), sb.blockId(2));
            assertEquals(3, cache.pool().refCount(sa.blockId(0)), "two sequences + the index");
            assertReadsBack(sa, a);
            assertReadsBack(sb, b);
            PrefixCacheStats ps = cache.prefixStats();
            assertEquals(2, ps.queries());
            assertEquals(1, ps.hits());
            assertEquals(21, ps.queryTokens());
            assertEquals(8, ps.hitTokens());
            assertEquals(8.0 / 21, ps.hitRate(), 1e-12);
            assertEquals(2, ps.indexedBlocks(), "a's two full blocks; b adds only a partial block");
            assertConservation(cache);
        }
    }

    @Test
    void atLeastTheLastPromptTokenIsLeftToCompute() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8);
            prefill(cache, a, 0).close();
            Sequence again = cache.openSequence(a);
            assertEquals(4, again.reusedTokens(), "8 tokens: only the first block, the last token is recomputed");
        }
    }

    @Test
    void closedSequencesLeaveCachedBlocksThatALaterHitTakesBack() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9);
            Sequence sa = prefill(cache, a, 0);
            int b0 = sa.blockId(0);
            sa.close();
            CacheStats st = cache.stats();
            assertEquals(2, st.cachedBlocks());
            assertEquals(0, st.usedBlocks());
            assertEquals(6, st.freeBlocks());
            assertEquals(6, cache.freeBlocks());
            assertEquals(8, cache.availableBlocks(), "cached blocks are reclaimable, so available");
            assertConservation(cache);
            Sequence again = prefill(cache, a, 0);
            assertEquals(8, again.reusedTokens());
            assertEquals(b0, again.blockId(0));
            assertEquals(0, cache.stats().cachedBlocks(), "hit blocks leave the LRU");
            assertReadsBack(again, a);
            assertConservation(cache);
        }
    }

    @Test
    void allocationReclaimsTheLeastRecentlyUsedCachedBlocksChildrenFirst() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9);
            prefill(cache, a, 0).close(); // blocks [1..4] and [5..8] cached, the partial one freed
            assertEquals(2, cache.stats().cachedBlocks());
            Sequence big = cache.openSequence();
            assertTrue(cache.canAppend(big, 12), "free + cached blocks count as available");
            big.append(12); // 3 blocks: 2 free + 1 reclaimed: the child [5..8], released first on close
            assertEquals(1, cache.stats().cachedBlocks());
            assertEquals(1, cache.prefixStats().reclaimedBlocks());
            assertConservation(cache);
            big.close();
            Sequence again = cache.openSequence(a);
            assertEquals(4, again.reusedTokens(), "the parent block survived, the child was reclaimed");
            assertFalse(cache.openSequence(new int[] {9, 9, 9, 9, 9}).tryAppend(16), "nothing more to reclaim");
            assertConservation(cache);
        }
    }

    @Test
    void reclaimingAParentUnlinksItsDescendants() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 6)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9);
            Sequence sa = prefill(cache, a, 0);
            int parent = sa.blockId(0);
            int child = sa.blockId(1);
            // make the parent the oldest cached block while its child is still referenced
            Sequence holder = sa.fork();
            sa.close();
            assertEquals(0, cache.stats().cachedBlocks());
            PrefixCache prefix = cache.prefix();
            assertTrue(prefix.isIndexed(parent) && prefix.isIndexed(child));
            // drop the holder's reference to the parent only, as block-granular release would
            cache.releaseBlock(parent);
            assertEquals(1, cache.stats().cachedBlocks());
            Sequence big = cache.openSequence();
            big.append(4 * 4); // 3 free + the cached parent
            assertEquals(1, cache.prefixStats().reclaimedBlocks());
            assertFalse(prefix.isIndexed(child), "the child is unlinked with its parent");
            assertEquals(1, cache.pool().refCount(child), "holder keeps its reference, the index dropped its own");
            assertEquals(0, cache.openSequence(a).reusedTokens(), "no chain reaches the child any more");
        }
    }

    @Test
    void aWriteIntoACachedBlockCopiesItAndTheCacheKeepsTheOriginal() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] a = prompt(1, 2, 3, 4, 5);
            Sequence sa = prefill(cache, a, 0);
            int cached = sa.blockId(0);
            KvPattern.writeToken(sa, 999, 1); // only sa references it, but the index does too
            assertNotEquals(cached, sa.blockId(0));
            assertEquals(1, cache.stats().copyOnWriteCopies());
            KvPattern.assertToken(sa, 999, 1);
            Sequence sb = prefill(cache, a, 0);
            assertEquals(4, sb.reusedTokens());
            assertEquals(cached, sb.blockId(0));
            assertReadsBack(sb, a);
        }
    }

    @Test
    void aDifferentExtraKeyMisses() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] a = prompt(1, 2, 3, 4, 5);
            prefill(cache, a, 7).close();
            assertEquals(0, cache.openSequence(a, 8).reusedTokens());
            assertEquals(4, cache.openSequence(a, 7).reusedTokens());
        }
    }

    @Test
    void collidingHashesNeverHandBackAnotherPromptsKv() {
        PrefixHasher constant = (parent, tokens, from, count, extra) -> 42L;
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16, KvCodecs.of(KvDType.F32), constant)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9);
            int[] b = prompt(1, 2, 3, 4, 6, 6, 7, 8, 9); // differs in block 1 only
            int[] c = prompt(5, 6, 7, 8, 1, 2, 3, 4, 9); // same blocks as a, other order
            Sequence sa = prefill(cache, a, 0);
            Sequence sb = prefill(cache, b, 0);
            Sequence sc = prefill(cache, c, 0);
            assertEquals(4, sb.reusedTokens(), "only the truly shared first block");
            assertEquals(0, sc.reusedTokens(), "same hash, other tokens: a miss");
            assertReadsBack(sa, a);
            assertReadsBack(sb, b);
            assertReadsBack(sc, c);
            sa.close();
            sb.close();
            sc.close();
            Sequence again = prefill(cache, b, 0);
            assertEquals(8, again.reusedTokens());
            assertReadsBack(again, b);
            Sequence againC = prefill(cache, c, 0);
            assertEquals(8, againC.reusedTokens());
            assertReadsBack(againC, c);
        }
    }

    @Test
    void resetAndTheSwitchDropCachedBlocks() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9);
            Sequence live = prefill(cache, a, 0);
            prefill(cache, prompt(9, 9, 9, 9, 1), 0).close();
            assertEquals(1, cache.stats().cachedBlocks());
            cache.resetPrefixCache();
            assertEquals(0, cache.stats().cachedBlocks());
            assertEquals(0, cache.prefixStats().indexedBlocks());
            assertEquals(1, cache.pool().refCount(live.blockId(0)), "the live sequence keeps its blocks");
            assertReadsBack(live, a);
            assertConservation(cache);
            cache.setPrefixCaching(false);
            prefill(cache, a, 0).close();
            assertEquals(0, cache.openSequence(a).reusedTokens());
            assertEquals(0, cache.stats().cachedBlocks());
            assertFalse(cache.prefixStats().enabled());
            cache.setPrefixCaching(true);
            prefill(cache, a, 0).close();
            assertEquals(8, cache.openSequence(a).reusedTokens());
        }
    }

    @Test
    void forkedChildrenKeepCachingTheirOwnContinuation() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6);
            Sequence sa = prefill(cache, a, 0);
            Sequence child = sa.fork();
            int[] more = {1, 2, 3, 4, 5, 6, 70, 80};
            child.appendTokens(more, 6, 2);
            KvPattern.writeToken(child, salt(more, 6), 6);
            KvPattern.writeToken(child, salt(more, 7), 7);
            assertEquals(2, child.commitPrefix());
            child.close();
            sa.close();
            Sequence again = prefill(cache, new int[] {1, 2, 3, 4, 5, 6, 70, 80, 90}, 0);
            assertEquals(8, again.reusedTokens());
            assertReadsBack(again, new int[] {1, 2, 3, 4, 5, 6, 70, 80, 90});
        }
    }

    @Test
    void evictionPrimitivesReleaseIndexedBlocksIntoTheLruAndStopTheChain() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            int[] a = prompt(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
            Sequence s = prefill(cache, a, 0); // 3 full indexed blocks + 1 partial
            int first = s.blockId(0);
            s.unlinkBlock(0); // block-granular release of an indexed block
            assertEquals(1, cache.stats().cachedBlocks(), "the released indexed block is cached, not leaked");
            assertConservation(cache);
            assertEquals(0, s.knownTokens(), "after eviction the sequence is no longer a prompt prefix");
            assertEquals(0, s.commitPrefix());
            s.truncate(4);
            assertEquals(2, cache.stats().cachedBlocks());
            assertConservation(cache);
            // the indexed blocks were never changed: the whole prefix is still served, from the
            // cached first block, the block s still holds, and the cached third block
            Sequence again = cache.openSequence(a);
            assertEquals(12, again.reusedTokens());
            assertEquals(first, again.blockId(0));
            assertEquals(s.blockId(0), again.blockId(1));
            assertReadsBack(again, Arrays.copyOf(a, 12));
            assertEquals(0, cache.stats().cachedBlocks());
            assertConservation(cache);
        }
    }

    @Test
    void badTokenRangesAreRejectedWithoutChange() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            Sequence s = cache.openSequence(new int[] {1, 2});
            assertThrows(IllegalArgumentException.class, () -> s.appendTokens(new int[] {1, 2}, 1, 2));
            assertThrows(IllegalArgumentException.class, () -> s.tryAppendTokens(null, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> cache.openSequence(null));
            assertEquals(0, s.length());
            assertEquals(4, cache.freeBlocks());
        }
    }
}
