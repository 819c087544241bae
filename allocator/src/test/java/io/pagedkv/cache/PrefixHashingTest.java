package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.pagedkv.dtype.KvCodecs;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Block hashes are computed where tokens arrive (a prompt's at open, an appended block's when it
 * fills), each block once, and never under the prefix index's lock (issue 27, goal 3).
 */
class PrefixHashingTest {

    /** The standard hasher, counting its calls and recording whether one ran under the index's lock. */
    static final class WatchingHasher implements PrefixHasher {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger underLock = new AtomicInteger();
        final AtomicReference<PagedKvCache> cache = new AtomicReference<>();
        private final PrefixHasher standard = PrefixHasher.standard();

        @Override
        public long hash(long parent, int[] tokens, int from, int count, long extraKey) {
            calls.incrementAndGet();
            PagedKvCache c = cache.get();
            if (c != null && Thread.holdsLock(c.prefix())) {
                underLock.incrementAndGet();
            }
            return standard.hash(parent, tokens, from, count, extraKey);
        }
    }

    static PagedKvCache cacheWith(WatchingHasher hasher, int blocks) {
        PagedKvCache cache = new PagedKvCache(PrefixCacheTest.LAYOUT, blocks, KvCodecs.of(PrefixCacheTest.LAYOUT.dtype()),
                hasher);
        hasher.cache.set(cache);
        return cache;
    }

    static int reusedAfterOpen(PagedKvCache cache, int[] prompt) {
        try (Sequence s = cache.openSequence(prompt)) {
            return s.reusedTokens();
        }
    }

    static int[] tokens(int n, int first) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = first + i;
        }
        return t;
    }

    @Test
    void aPrefilledPromptHashesEachFullBlockOnceFromOpenToCommit() {
        WatchingHasher hasher = new WatchingHasher();
        try (PagedKvCache cache = cacheWith(hasher, 32)) {
            int[] prompt = tokens(41, 100); // block size 4: the lookup covers 40 tokens, 10 full blocks
            Sequence s = PrefixCacheTest.prefill(cache, prompt, 0);
            assertEquals(10, s.commitPrefix(), "all ten full blocks indexed");
            assertEquals(10, hasher.calls.get(), "open hashed the prompt's blocks; the prefill's append kept them");
            assertEquals(0, hasher.underLock.get(), "no hash under the index's lock");
            s.close();
        }
    }

    @Test
    void aHitReadsTheHashesOfTheLookupAndHashesNothingUnderTheLock() {
        WatchingHasher hasher = new WatchingHasher();
        try (PagedKvCache cache = cacheWith(hasher, 64)) {
            int[] prompt = tokens(33, 7);
            PrefixCacheTest.prefill(cache, prompt, 0).close();
            hasher.calls.set(0);
            PrefixProbe probe = cache.probePrefix(prompt, prompt.length, PrefixKeys.NONE);
            assertEquals(32, probe.tokens());
            Sequence s = cache.openSequence(prompt);
            assertEquals(32, s.reusedTokens());
            assertEquals(16, hasher.calls.get(), "8 blocks for the probe, 8 for the open, one each");
            assertEquals(0, hasher.underLock.get());
            s.close();
        }
    }

    @Test
    void decodeAppendsHashABlockWhenItFillsAndTheCommitHashesNothingMore() {
        WatchingHasher hasher = new WatchingHasher();
        try (PagedKvCache cache = cacheWith(hasher, 32)) {
            Sequence s = cache.openSequence();
            int[] t = tokens(22, 1);
            for (int i = 0; i < t.length; i++) {
                s.appendTokens(t, i, 1);
                assertEquals((i + 1) / 4, hasher.calls.get(), "after token " + i);
            }
            s.markWritten(t.length);
            assertEquals(5, s.commitPrefix());
            assertEquals(5, hasher.calls.get(), "the commit found every hash ready");
            assertEquals(0, hasher.underLock.get());
            s.close();
        }
    }

    @Test
    void anAppendedIdThatDiffersFromThePromptIsIndexedUnderItsOwnTokens() {
        WatchingHasher hasher = new WatchingHasher();
        try (PagedKvCache cache = cacheWith(hasher, 32)) {
            int[] prompt = tokens(17, 50);
            int[] actual = prompt.clone();
            actual[9] = 999; // the engine appends other ids from block 2 on than the prompt it opened with
            Sequence s = cache.openSequence(prompt);
            s.appendTokens(actual, 0, actual.length);
            s.markWritten(actual.length);
            assertEquals(4, s.commitPrefix());
            assertEquals(8, reusedAfterOpen(cache, prompt), "blocks 0-1 are shared; block 2 of the prompt was never written");
            assertEquals(16, reusedAfterOpen(cache, actual), "the appended ids name the indexed blocks");
            assertEquals(0, hasher.underLock.get());
            s.close();
        }
    }

    @Test
    void blocksAppendedWhileCachingWasOffAreHashedAtTheCommitAfterItIsTurnedOn() {
        WatchingHasher hasher = new WatchingHasher();
        try (PagedKvCache cache = cacheWith(hasher, 32)) {
            cache.setPrefixCaching(false);
            Sequence s = cache.openSequence(tokens(9, 3));
            s.appendTokens(tokens(9, 3), 0, 9);
            assertEquals(0, hasher.calls.get(), "nothing hashed while caching is off");
            cache.setPrefixCaching(true);
            s.markWritten(9);
            assertEquals(2, s.commitPrefix());
            assertEquals(2, hasher.calls.get());
            assertFalse(hasher.underLock.get() > 0);
            s.close();
            assertEquals(8, reusedAfterOpen(cache, tokens(9, 3)));
        }
    }
}
