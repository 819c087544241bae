package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * vLLM's hybrid prefix-hit rule on a {@link GroupedKvCache}: a hit of {@code h} tokens needs every
 * block below {@code h} in the global group but only the blocks covering the window of position
 * {@code h} in the sliding group, and the K/V read through such a hit is what a full prefill writes.
 */
class GroupedPrefixHitTest {

    static final int BLOCK = 4;
    static final int WINDOW = 6;
    /** 4 layers: 0 and 2 slide over 6 tokens (group 0), 1 and 3 are global (group 1). */
    static final ModelShape SHAPE = new ModelShape("alt", 4, 2, 1, 8, WINDOW, AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    static final CacheLayout MODEL = new CacheLayout(SHAPE, KvDType.F32, BLOCK);
    static final LayerGroups GROUPS = LayerGroups.of(SHAPE);
    static final int SLIDING = 0;
    static final int GLOBAL = 1;

    /** K/V of {@code layer} at position {@code p}: depends on the whole token prefix {@code tokens[0 .. p]} and the layer. */
    static float[] kv(int[] tokens, int p, int layer, int kvIndex) {
        int salt = Math.floorMod(Arrays.hashCode(Arrays.copyOf(tokens, p + 1)), 997);
        float[] v = new float[SHAPE.kvHeads() * SHAPE.headDim()];
        for (int i = 0; i < v.length; i++) {
            v[i] = salt * 100 + layer * 10 + kvIndex * 5 + i;
        }
        return v;
    }

    /**
     * Prefills {@code prompt[from .. to)} in chunks of {@code chunk} tokens as an engine does: append,
     * write every layer, commit the full blocks, release outside the window of the next token.
     */
    static void prefill(GroupedSequence s, int[] prompt, int from, int to, int chunk) {
        for (int at = from; at < to; at += chunk) {
            int n = Math.min(chunk, to - at);
            assertTrue(s.tryAppendTokens(prompt, at, n));
            for (int p = at; p < at + n; p++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    s.write(l, p, kv(prompt, p, l, 0), kv(prompt, p, l, 1));
                }
            }
            s.commitPrefix();
            s.releaseOutsideWindow();
        }
    }

    /** A sequence of {@code prompt} prefilled in one go with nothing released: what a full prefill writes. */
    static GroupedSequence fullPrefill(GroupedKvCache fresh, int[] prompt) {
        GroupedSequence s = fresh.openSequence();
        assertTrue(s.tryAppendTokens(prompt, 0, prompt.length));
        for (int p = 0; p < prompt.length; p++) {
            for (int l = 0; l < SHAPE.layers(); l++) {
                s.write(l, p, kv(prompt, p, l, 0), kv(prompt, p, l, 1));
            }
        }
        return s;
    }

    /** Asserts that {@code s} reads what {@code reference} reads at every position both hold, in every layer. */
    static void assertSameKv(GroupedSequence reference, GroupedSequence s, int length) {
        float[] want = new float[SHAPE.headDim()];
        float[] got = new float[SHAPE.headDim()];
        int compared = 0;
        for (int l = 0; l < SHAPE.layers(); l++) {
            int g = GROUPS.groupOf(l);
            for (int p = Math.max(reference.firstPosition(g), s.firstPosition(g)); p < length; p++) {
                for (int h = 0; h < SHAPE.kvHeads(); h++) {
                    reference.readKey(l, h, p, want, 0);
                    s.readKey(l, h, p, got, 0);
                    assertArrayEquals(want, got, "K of layer " + l + " head " + h + " position " + p);
                    reference.readValue(l, h, p, want, 0);
                    s.readValue(l, h, p, got, 0);
                    assertArrayEquals(want, got, "V of layer " + l + " head " + h + " position " + p);
                    compared++;
                }
            }
        }
        assertTrue(compared > 0);
    }

    @Test
    void aPromptLongerThanTheWindowHitsInFullAfterItsSlidingGroupReleasedAndLostItsEarlyBlocks() {
        int[] shared = new int[24];
        for (int i = 0; i < shared.length; i++) {
            shared[i] = 100 + i;
        }
        int[] first = Arrays.copyOf(shared, 26);
        first[24] = 7;
        first[25] = 8;
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 24);
                GroupedKvCache fresh = new GroupedKvCache(MODEL, GROUPS, 24)) {
            GroupedSequence a = c.openSequence(first);
            assertEquals(0, a.reusedTokens());
            prefill(a, first, 0, first.length, 5); // the sliding group releases blocks between the chunks
            assertEquals(20, a.firstPosition(SLIDING), "the window of position 26 starts at 21");
            a.close();
            assertEquals(6, c.cachedBlocks(GLOBAL), "the global group's six full blocks");
            assertEquals(6, c.cachedBlocks(SLIDING), "the sliding group committed on after its first release");

            // another request takes 4 cached blocks: the LRU's oldest, the sliding group's first released ones
            GroupedSequence other = c.openSequence();
            int room = c.freeBlocks();
            assertEquals(12, room);
            assertTrue(other.tryAppend((room + 4) / 2 * BLOCK));
            assertEquals(0, c.freeBlocks());
            assertEquals(6, c.cachedBlocks(GLOBAL), "the global chain is intact");
            assertEquals(2, c.cachedBlocks(SLIDING), "the sliding group kept only its blocks 4 and 5");

            int[] second = Arrays.copyOf(shared, 25);
            second[24] = 9; // 25 tokens: at most 24 reused, the last one computed
            PrefixProbe probe = c.probePrefix(second, second.length, PrefixKeys.NONE);
            PrefixCacheStats statsBefore = c.group(0).prefixStats();
            GroupedSequence b = c.openSequence(second);
            assertEquals(24, probe.tokens(), "the probe counts the same hit");
            assertEquals(6 + 2, probe.blocks(), "six global blocks, two window blocks");
            assertEquals(24, b.reusedTokens(), "the global length: the sliding group has the window's blocks");
            assertEquals(24, b.length());
            assertEquals(16, b.firstPosition(SLIDING), "the query at 24 attends to 19 .. 24: blocks 4 and 5");
            assertEquals(2, b.blockCount(SLIDING), "opened from the window's blocks only");
            assertEquals(0, b.firstPosition(GLOBAL));
            assertEquals(6, b.blockCount(GLOBAL));
            assertTrue(c.group(0).prefixStats().hits() > statsBefore.hits());
            assertEquals(0, c.cachedBlocks(), "the hit took every cached block");
            GroupedSequence reference = fullPrefill(fresh, second); // what a full prefill of the same prompt writes
            assertSameKv(reference, b, 24);
            other.close();
            prefill(b, second, 24, second.length, 5);
            assertSameKv(reference, b, second.length);
            b.close();
            assertEquals(24, c.freeBlocks() + c.cachedBlocks() + c.usedBlocks(0) + c.usedBlocks(1));
        }
    }

    @Test
    void aMissingWindowBlockLowersTheHitToWhereTheWindowIsCached() {
        int[] prompt = new int[30];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 300 + i;
        }
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 40)) {
            GroupedSequence a = c.openSequence(prompt);
            // one-token steps, committing at 10, 28 and 30: sliding blocks 2 .. 4 are released unindexed
            prefill(a, prompt, 0, 10, 10);
            for (int p = 10; p < prompt.length; p++) {
                assertTrue(a.tryAppendTokens(prompt, p, 1));
                for (int l = 0; l < SHAPE.layers(); l++) {
                    a.write(l, p, kv(prompt, p, l, 0), kv(prompt, p, l, 1));
                }
                if (p + 1 == 28) {
                    a.commitPrefix(); // the sliding group holds blocks 5, 6 (positions 20 .. 27)
                }
                a.releaseOutsideWindow();
            }
            a.commitPrefix();
            a.close();
            assertEquals(7, c.cachedBlocks(GLOBAL));
            assertEquals(2 + 2, c.cachedBlocks(SLIDING), "blocks 0, 1 and the last window's 5, 6");
            int[] at28 = Arrays.copyOf(prompt, 29);
            assertEquals(28, c.probePrefix(at28, at28.length, PrefixKeys.NONE).tokens(), "the window of 28 needs 5, 6");
            int[] at20 = Arrays.copyOf(prompt, 21);
            assertEquals(8, c.probePrefix(at20, at20.length, PrefixKeys.NONE).tokens(),
                    "20 needs 3, 4; 16 needs 2, 3; 12 needs 1, 2; 8 needs 0, 1");
            GroupedSequence b = c.openSequence(at20);
            assertEquals(8, b.reusedTokens());
            assertEquals(0, b.firstPosition(SLIDING));
            try (GroupedKvCache fresh = new GroupedKvCache(MODEL, GROUPS, 40)) {
                GroupedSequence reference = fullPrefill(fresh, at20);
                assertSameKv(reference, b, 8);
                prefill(b, at20, 8, at20.length, 4);
                assertSameKv(reference, b, at20.length);
            }
        }
    }

    @Test
    void theProbeTakesNothing() {
        int[] prompt = new int[17];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 500 + i;
        }
        try (GroupedKvCache c = new GroupedKvCache(MODEL, GROUPS, 16)) {
            GroupedSequence a = c.openSequence(prompt);
            prefill(a, prompt, 0, prompt.length, 3);
            a.close();
            int free = c.freeBlocks();
            int cached0 = c.cachedBlocks(0);
            int cached1 = c.cachedBlocks(1);
            PrefixCacheStats stats = c.group(0).prefixStats();
            PrefixProbe p = c.probePrefix(prompt, prompt.length, PrefixKeys.NONE);
            assertEquals(16, p.tokens());
            assertEquals(p.blocks(), p.reclaimableBlocks(), "every block of the hit sits in the LRU");
            assertEquals(free, c.freeBlocks());
            assertEquals(cached0, c.cachedBlocks(0));
            assertEquals(cached1, c.cachedBlocks(1));
            assertEquals(stats, c.group(0).prefixStats());
            GroupedSequence b = c.openSequence(prompt);
            assertEquals(p.tokens(), b.reusedTokens());
            assertEquals(cached0 + cached1 - p.blocks(), c.cachedBlocks(), "the open took exactly the probed blocks");
        }
    }
}
