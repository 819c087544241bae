package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SequenceEvictorTest {

    /** A window that records every key and value it is shown. */
    record Recording(SlidingWindow inner, List<String> seen) implements EvictionPolicy {
        @Override public String name() { return "recording"; }
        @Override public Budget budget() { return inner.budget(); }
        @Override public int quantum() { return inner.quantum(); }
        @Override public long appended() { return inner.appended(); }
        @Override public int liveTokens() { return inner.liveTokens(); }
        @Override public boolean isLive(int slot) { return inner.isLive(slot); }
        @Override public int positionOf(int slot) { return inner.positionOf(slot); }
        @Override public int liveSlots(int[] out) { return inner.liveSlots(out); }
        @Override public void onAppend(int slot, int position) { inner.onAppend(slot, position); }
        @Override public boolean usesKeys() { return true; }
        @Override public boolean usesValues() { return true; }
        @Override public void onKey(int l, int h, int slot, float[] k, int off, int len) { seen.add("k" + l + h + "@" + slot + "=" + k[off]); }
        @Override public void onValue(int l, int h, int slot, float[] v, int off, int len) { seen.add("v" + l + h + "@" + slot + "=" + v[off]); }
        @Override public int evict(int incoming, int[] victims) { return inner.evict(incoming, victims); }
        @Override public int pendingEvictions(int incoming) { return inner.pendingEvictions(incoming); }
        @Override public void onMove(int from, int to) { inner.onMove(from, to); }
        @Override public void reset() { inner.reset(); }
        @Override public EvictionPolicy copy() { return new Recording(inner.copy(), new ArrayList<>(seen)); }
    }

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 2, 2, 2), KvDType.F32, 4);

    static float[] kv(float x) {
        return new float[] {x, x, -x, x};
    }

    @Test
    void aCacheSizedForExactlyTheBudgetNeverRunsOutBecauseEvictionComesBeforePlacement() {
        // budget 8 = 2 blocks of 4: the pool has exactly 2 blocks, and 100 decode steps fit in it
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 2);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new SlidingWindow(8))) {
            for (int t = 0; t < 100; t++) {
                int p = ev.append(t);
                assertEquals(t, p);
                for (int l = 0; l < 2; l++) {
                    ev.write(l, p, kv(p), kv(p));
                }
                assertTrue(ev.liveTokens() <= 8);
            }
            assertEquals(92, ev.tokensEvicted());
            float[] k = new float[2];
            ev.readKey(1, 0, 99, k, 0);
            assertEquals(99f, k[0]);
        }
    }

    @Test
    void aForkCarriesThePolicyScoresAndDecidesLikeItsParent() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new HeavyHitters(6, 2, HeavyHitters.Accumulation.SUM))) {
            float[] row = new float[8];
            for (int t = 0; t < 6; t++) {
                int p = ev.append(t);
                ev.write(0, p, kv(p), kv(p));
                ev.write(1, p, kv(p), kv(p));
                // position 1 is a heavy hitter
                java.util.Arrays.fill(row, 0f);
                for (int s = 0; s < ev.slots(); s++) {
                    row[s] = ev.positionOf(s) == 1 ? 0.9f : 0.01f;
                }
                ev.attention(0, 0, row, 0);
            }
            try (SequenceEvictor fork = ev.fork()) {
                List<Integer> parentKept = new ArrayList<>();
                List<Integer> forkKept = new ArrayList<>();
                for (int t = 6; t < 12; t++) {
                    for (SequenceEvictor e : List.of(ev, fork)) {
                        int p = e.append(t);
                        e.write(0, p, kv(p), kv(p));
                        e.write(1, p, kv(p), kv(p));
                        java.util.Arrays.fill(row, 0f);
                        e.attention(0, 0, row, 0); // no new information: scores decide
                    }
                }
                for (int p = 0; p < 12; p++) {
                    if (ev.slotOf(p) >= 0) {
                        parentKept.add(p);
                    }
                    if (fork.slotOf(p) >= 0) {
                        forkKept.add(p);
                    }
                }
                assertEquals(parentKept, forkKept, "the fork decides like its parent");
                assertTrue(forkKept.contains(1), "the heavy hitter's score came with the fork: " + forkKept);
            }
        }
    }

    @Test
    void aPromptLongerThanTheBudgetIsPrefilledWholeThenCompressed() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new AttentionSinks(8, 2))) {
            int[] prompt = new int[20];
            int first = ev.prefill(prompt, 0, 20);
            assertEquals(0, first);
            assertEquals(20, ev.liveTokens(), "no eviction while the prompt goes in");
            for (int p = 0; p < 20; p++) {
                ev.write(0, p, kv(p), kv(p));
                ev.write(1, p, kv(p), kv(p));
            }
            assertEquals(12, ev.compress());
            assertEquals(8, ev.liveTokens());
            assertEquals(8, ev.slots(), "compacted");
            assertEquals(2, ev.blockCount());
            float[] k = new float[2];
            for (int p : new int[] {0, 1, 14, 19}) {
                ev.readKey(0, 0, p, k, 0);
                assertEquals(p, k[0], 0f, "kept position " + p);
            }
            assertEquals(-1, ev.slotOf(5));
        }
    }

    @Test
    void aPromptLongerThanTheBudgetStreamsInChunksAndThePoolOfTheBudgetSuffices() {
        // budget 8 = 2 blocks of 4: the pool has exactly 2 blocks, and a prompt of 30 goes in by chunks
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 2);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new AttentionSinks(8, 2))) {
            int[] prompt = new int[30];
            java.util.Arrays.setAll(prompt, i -> 100 + i);
            int done = 0;
            int chunks = 0;
            while (done < 30) {
                int n = Math.min(30 - done, ev.maxIncoming());
                assertEquals(done, ev.appendChunk(prompt, done, n));
                for (int p = done; p < done + n; p++) {
                    ev.write(0, p, kv(p), kv(p));
                    ev.write(1, p, kv(p), kv(p));
                }
                done += n;
                chunks++;
                assertTrue(ev.liveTokens() <= 8, "after chunk " + chunks + ": " + ev.liveTokens());
            }
            assertEquals(5, chunks, "8 at first (nothing to evict), then 6 at a time (8 minus the 2 sinks)");
            float[] k = new float[2];
            for (int p : new int[] {0, 1, 24, 29}) {
                ev.readKey(0, 0, p, k, 0);
                assertEquals(p, k[0], 0f, "kept position " + p);
            }
            assertEquals(-1, ev.slotOf(23));
            int most = ev.maxIncoming();
            assertEquals(6, most);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ev.appendChunk(prompt, 0, most + 1));
            assertTrue(e.getMessage().contains("n: 7 (expected: 1 <= n <= maxIncoming 6"), e.getMessage());
            assertEquals(30, ev.nextPosition(), "a refused chunk changes nothing");
            assertEquals(8, ev.liveTokens());
            assertEquals(22, ev.tokensEvicted());
        }
    }

    @Test
    void rerotateKeyMovesTheKeyOfEveryLayerAndHeadInPlaceWithoutShowingThePolicy() {
        List<String> seen = new ArrayList<>();
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new Recording(new SlidingWindow(8), seen))) {
            int p = ev.append(7);
            float[] written = {0.5f, -1.5f, 2f, 0.25f};
            ev.write(0, p, written, kv(1));
            ev.write(1, p, written, kv(1));
            int shown = seen.size();
            ev.rerotateKey(p, 9, 3, 10_000, RopeStyle.INTERLEAVED);
            assertEquals(shown, seen.size(), "the policy is not shown the same token's key again");
            assertEquals(1, ev.keysRerotated());
            float[] expected = new float[4];
            RopeRerotation.rerotate(written, 0, 2, 9, 3, 10_000, RopeStyle.INTERLEAVED, expected, 0);
            RopeRerotation.rerotate(written, 2, 2, 9, 3, 10_000, RopeStyle.INTERLEAVED, expected, 2);
            float[] k = new float[2];
            for (int l = 0; l < 2; l++) {
                for (int h = 0; h < 2; h++) {
                    ev.readKey(l, h, p, k, 0);
                    assertEquals(expected[2 * h], k[0], 0f, "layer " + l + " head " + h);
                    assertEquals(expected[2 * h + 1], k[1], 0f, "layer " + l + " head " + h);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ev.rerotateKey(5, 0, 1, 10_000, RopeStyle.INTERLEAVED));
            assertTrue(e.getMessage().contains("position: 5 (expected: a kept token)"), e.getMessage());
        }
    }

    @Test
    void keysAndValuesWrittenThroughTheEvictorReachThePolicyPerLayerAndHead() {
        List<String> seen = new ArrayList<>();
        EvictionPolicy recording = new Recording(new SlidingWindow(8), seen);
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), recording)) {
            int p = ev.append(7);
            ev.write(1, p, new float[] {1, 1, 2, 2}, new float[] {3, 3, 4, 4});
            assertEquals(List.of("k10@0=1.0", "k11@0=2.0", "v10@0=3.0", "v11@0=4.0"), seen);
        }
    }

    @Test
    void badBindingsAreRefusedWithTheValue() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SequenceEvictor(cache.openSequence(), new SlidingWindow(Budget.tokens(12), 3)));
            assertTrue(e.getMessage().contains("quantum: 3 (expected: 1, or a multiple of the block size 4"), e.getMessage());
            SlidingWindow used = new SlidingWindow(4);
            used.onAppend(0, 0);
            e = assertThrows(IllegalArgumentException.class, () -> new SequenceEvictor(cache.openSequence(), used));
            assertTrue(e.getMessage().contains("expected: a fresh policy"), e.getMessage());
        }
    }
}
