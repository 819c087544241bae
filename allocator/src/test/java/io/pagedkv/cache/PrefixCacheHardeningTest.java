package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of issue 24 for the prefix cache and the cache facade (items 4, 6, 8): each is
 * named for the invariant it protects and failed on the code before its fix.
 */
class PrefixCacheHardeningTest {

    /** One token per block, so a chain of 16,384 blocks costs 16,384 tokens of 32 bytes. */
    static final CacheLayout ONE_TOKEN_BLOCKS = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 1);
    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);
    static final int LONG_CHAIN = 16_384;

    /** A sequence holding a committed chain of {@code blocks} blocks (written, then committed). */
    static Sequence committedChain(PagedKvCache cache, int blocks) {
        int tokensPerBlock = cache.layout().blockSize();
        int[] ids = new int[blocks * tokensPerBlock];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i + 1;
        }
        Sequence s = cache.openSequence(ids);
        s.appendTokens(ids, 0, ids.length);
        float[] kv = new float[cache.layout().shape().kvHeads() * cache.layout().shape().headDim()];
        for (int p = 0; p < ids.length; p++) {
            kv[0] = p;
            s.write(0, p, kv, kv);
        }
        assertEquals(blocks, s.commitPrefix());
        return s;
    }

    static void assertConservation(PagedKvCache cache) {
        CacheStats st = cache.stats();
        assertEquals(st.totalBlocks(), st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation " + st);
    }

    /** Item 6: dropping a long chain (reset) is iterative, so no prompt length overflows the stack. */
    @Test
    void resetOfAChainOf16kBlocksDoesNotOverflowTheStack() {
        try (PagedKvCache cache = new PagedKvCache(ONE_TOKEN_BLOCKS, LONG_CHAIN + 8)) {
            committedChain(cache, LONG_CHAIN).close();
            assertEquals(LONG_CHAIN, cache.stats().cachedBlocks());
            cache.resetPrefixCache();
            assertEquals(0, cache.prefixStats().indexedBlocks());
            assertEquals(LONG_CHAIN + 8, cache.freeBlocks());
        }
    }

    /** Item 6: switching prefix caching off drops a long chain without recursion. */
    @Test
    void disablingPrefixCachingWithAChainOf16kBlocksDoesNotOverflowTheStack() {
        try (PagedKvCache cache = new PagedKvCache(ONE_TOKEN_BLOCKS, LONG_CHAIN + 8)) {
            Sequence s = committedChain(cache, LONG_CHAIN);
            cache.setPrefixCaching(false);
            assertEquals(0, cache.prefixStats().indexedBlocks());
            s.close();
            assertEquals(LONG_CHAIN + 8, cache.freeBlocks());
        }
    }

    /**
     * Item 6: a reclaim whose oldest cached entry is the root of a long chain (the rest still held by
     * a sequence) unlinks the whole chain without recursion, and later allocations keep working.
     */
    @Test
    void reclaimingTheRootOfAChainOf16kBlocksDoesNotOverflowTheStack() {
        try (PagedKvCache cache = new PagedKvCache(ONE_TOKEN_BLOCKS, LONG_CHAIN)) {
            Sequence s = committedChain(cache, LONG_CHAIN);
            s.unlinkBlock(0); // the root joins the LRU; its 16,383 descendants stay with s
            assertEquals(1, cache.stats().cachedBlocks());
            assertEquals(0, cache.freeBlocks());
            Sequence t = cache.openSequence();
            assertTrue(t.tryAppend(1), "reclaims the root");
            assertEquals(0, cache.prefixStats().indexedBlocks(), "the whole chain was unlinked");
            assertTrue(t.tryAppend(1) || cache.availableBlocks() == 0);
            assertConservation(cache);
        }
    }

    /** Item 6: an allocation that fails (here: an injected fault) reclaims no cached block. */
    @Test
    void aFailedAllocationReclaimsNoCachedBlock() {
        NthCallFaults faults = new NthCallFaults();
        try (PagedKvCache cache = PagedKvCache.builder(LAYOUT, 4).faults(faults).build()) {
            committedChain(cache, 2).close();
            assertEquals(2, cache.stats().cachedBlocks());
            Sequence s = cache.openSequence();
            CacheStats before = cache.stats();
            faults.failNthAllocation(1); // the pool's part of the allocation fails
            assertFalse(s.tryAppend(12), "needs 3 blocks: 2 free + 1 cached; the pool said no");
            assertEquals(1, faults.injectedFailures());
            assertEquals(before, cache.stats(), "nothing reclaimed, nothing allocated");
            assertEquals(2, cache.prefixStats().indexedBlocks());
            assertEquals(0, cache.prefixStats().reclaimedBlocks());
            assertTrue(s.tryAppend(12), "without the fault the same request reclaims one cached block");
            assertEquals(1, cache.prefixStats().reclaimedBlocks());
            assertConservation(cache);
        }
    }

    /** An injected failure on the only pool call makes tryAppend answer false with nothing changed (no retry). */
    @Test
    void anInjectedAllocationFailureMakesTryAppendAnswerFalseWithNothingChanged() {
        NthCallFaults faults = new NthCallFaults();
        try (PagedKvCache cache = PagedKvCache.builder(LAYOUT, 8).faults(faults).build()) {
            Sequence s = cache.openSequence();
            assertTrue(s.tryAppend(5));
            CacheStats before = cache.stats();
            faults.failNthAllocation(1);
            assertFalse(s.tryAppend(4), "needs one block; the injected failure says no");
            assertEquals(before, cache.stats());
            assertEquals(5, s.length());
            assertTrue(s.tryAppend(4));
        }
    }

    /** Item 8: utilization counts blocks in use, not reclaimable cached ones. */
    @Test
    void utilizationCountsBlocksInUseNotReclaimableCachedOnes() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            committedChain(cache, 2).close();
            Sequence s = cache.openSequence();
            s.append(4);
            CacheStats st = cache.stats();
            assertEquals(2, st.cachedBlocks());
            assertEquals(1, st.usedBlocks());
            assertEquals(1.0 / 8, st.utilization(), 1e-12);
        }
    }

    /** Item 4: a cache close that the arena refuses leaves the cache open; a later close frees it. */
    @Test
    void aRefusedCacheCloseLeavesTheCacheOpenAndALaterCloseFreesIt() throws Exception {
        CacheLayout big = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4096); // 256 KiB blocks
        PagedKvCache cache = new PagedKvCache(big, 2);
        Sequence s = cache.openSequence();
        s.append(1);
        MemorySegment seg = cache.block(s.blockId(0));
        Pipe pipe = Pipe.open();
        Thread writer = new Thread(() -> {
            try {
                ByteBuffer buf = seg.asByteBuffer();
                while (buf.hasRemaining()) {
                    pipe.sink().write(buf);
                }
            } catch (Exception e) {
                // pipe closed at the end
            }
        });
        writer.setDaemon(true);
        writer.start();
        try {
            BlockPoolHardeningTest.awaitBlockedInWrite(writer);
            assertThrows(IllegalStateException.class, cache::close);
            assertFalse(cache.isClosed(), "a refused close must not mark the cache closed");
            assertTrue(s.tryAppend(1), "the cache is still usable");
        } finally {
            BlockPoolHardeningTest.drain(pipe, writer);
        }
        cache.close();
        assertTrue(cache.isClosed());
        assertThrows(IllegalStateException.class, () -> seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        cache.close();
    }
}
