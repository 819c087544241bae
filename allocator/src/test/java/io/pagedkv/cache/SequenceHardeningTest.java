package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of issue 24 items 2, 3 and 4 and issue 23 item 7 for sequences: each is named for
 * the invariant it protects and failed on the code before its fix.
 */
class SequenceHardeningTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);
    static final int WIDTH = 2 * 8;

    static float[] filled(float v) {
        float[] a = new float[WIDTH];
        Arrays.fill(a, v);
        return a;
    }

    static void writeAllLayers(Sequence s, int position, float v) {
        for (int l = 0; l < 2; l++) {
            s.write(l, position, filled(v), filled(-v));
        }
    }

    /** Item 2: no zero-copy view lets a caller write past copy-on-write into a block a fork shares. */
    @Test
    void noZeroCopyViewCanWriteIntoABlockAForkShares() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence parent = cache.openSequence();
            parent.append(2);
            writeAllLayers(parent, 0, 1f);
            writeAllLayers(parent, 1, 2f);
            Sequence child = parent.fork();
            int b = parent.blockId(0);
            List<Supplier<MemorySegment>> views = List.of(
                    () -> parent.keys(0, 0, 0), () -> parent.values(0, 1, 1),
                    () -> cache.keys(b, 0, 0), () -> cache.values(b, 0, 0), () -> cache.block(b),
                    () -> cache.pool().block(b));
            for (Supplier<MemorySegment> view : views) {
                MemorySegment seg = view.get();
                assertTrue(seg.isReadOnly(), "a read view must be read-only: " + seg);
                assertThrows(IllegalArgumentException.class, () -> seg.set(ValueLayout.JAVA_FLOAT, 0, 42f)); // JDK 25: "Attempt to write a read-only segment"
            }
            float[] got = new float[8];
            child.readKey(0, 0, 0, got, 0);
            assertEquals(1f, got[0], "the child still reads what was shared");
        }
    }

    /**
     * Item 3 (the reproduced scenario): X writes 42.0 into 8 tokens and closes; Y appends the same 8
     * token ids and commits before writing; Z opens with those ids plus one. Z must not reuse Y's
     * unwritten blocks, so no read of Z ever returns X's 42.0.
     */
    @Test
    void commitPrefixIndexesOnlyBlocksWhoseEverySlotWasWritten() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            int[] ids = {1, 2, 3, 4, 5, 6, 7, 8};
            Sequence x = cache.openSequence();
            x.append(8);
            for (int p = 0; p < 8; p++) {
                writeAllLayers(x, p, 42f);
            }
            x.close();
            Sequence y = cache.openSequence(ids);
            y.appendTokens(ids, 0, 8);
            assertEquals(0, y.commitPrefix(), "nothing written yet: nothing to index");
            int[] prompt = Arrays.copyOf(ids, 9);
            prompt[8] = 9;
            Sequence z = cache.openSequence(prompt);
            assertEquals(0, z.reusedTokens(), "unwritten blocks are never a prefix hit");
            y.close();
            z.close();
        }
    }

    /** Item 3: a position appended but not written cannot be read (its slot may hold another request's K/V). */
    @Test
    void aPositionNotYetWrittenCannotBeRead() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 1)) {
            Sequence x = cache.openSequence();
            x.append(4);
            for (int p = 0; p < 4; p++) {
                writeAllLayers(x, p, 42f);
            }
            x.close();
            Sequence y = cache.openSequence();
            y.append(4); // the same block, holding X's bytes
            writeAllLayers(y, 0, 7f);
            float[] got = new float[8];
            y.readKey(1, 1, 0, got, 0);
            assertEquals(7f, got[0]);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.readKey(0, 0, 1, got, 0));
            assertTrue(e.getMessage().contains("not written"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> y.readValue(1, 0, 3, got, 0));
        }
    }

    /** Item 4: close is idempotent (Closeable), also after the cache closed. */
    @Test
    void closeIsIdempotentAlsoAfterTheCacheClosed() {
        PagedKvCache cache = new PagedKvCache(LAYOUT, 4);
        Sequence a = cache.openSequence();
        a.append(3);
        Sequence b = cache.openSequence();
        b.append(1);
        a.close();
        CacheStats st = cache.stats();
        a.close();
        assertEquals(st, cache.stats(), "a second close changes nothing");
        cache.close();
        b.close(); // the memory is gone with the cache: nothing to release, nothing thrown
        assertTrue(b.isClosed());
        assertThrows(IllegalStateException.class, () -> b.append(1));
    }

    /** Issue 23 item 7: a closed sequence holds nothing, and its queries say so. */
    @Test
    void aClosedSequenceReportsNoTokensAndNoBlocks() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            Sequence s = cache.openSequence();
            s.append(6);
            s.close();
            assertEquals(0, s.length());
            assertEquals(0, s.blockCount());
            assertThrows(IllegalStateException.class, () -> s.blockId(0));
            float[] got = new float[8];
            assertThrows(IllegalStateException.class, () -> s.readKey(0, 0, 0, got, 0));
        }
    }

    /** Issue 23 item 7: the pool an engine can reach through the cache cannot free or release. */
    @Test
    void theCachesPoolIsAReadOnlyView() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 4)) {
            Object view = cache.pool();
            assertFalse(view instanceof BlockPool, "cache.pool() must not hand out the pool itself");
            for (java.lang.reflect.Method m : view.getClass().getMethods()) {
                assertFalse(List.of("free", "release", "retain", "retainAll", "allocate", "close", "writableBlock")
                        .contains(m.getName()), "view exposes " + m);
            }
        }
    }

    /** Items 2/3: a fork after a write sees the write; the parent's later write is copied first. */
    @Test
    void forkNeverSeesTheParentsLaterWrites() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence parent = cache.openSequence();
            parent.append(3);
            writeAllLayers(parent, 0, 1f);
            Sequence child = parent.fork();
            writeAllLayers(parent, 0, 5f);
            assertNotEquals(parent.blockId(0), child.blockId(0));
            float[] got = new float[8];
            child.readKey(0, 0, 0, got, 0);
            assertEquals(1f, got[0]);
        }
    }
}
