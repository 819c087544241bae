package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class PagedKvCacheTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 4, 2, 8);
    static final CacheLayout LAYOUT = new CacheLayout(SHAPE, KvDType.F32, 4);
    static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A distinct, exactly representable value for every (salt, layer, kv, head, position, i). */
    static float value(int salt, int layer, int kv, int head, int position, int i) {
        return salt * 100_000f + layer * 10_000 + kv * 5_000 + head * 1_000 + position * 10 + i * 0.125f;
    }

    static float[] token(int salt, int layer, int kv, int position) {
        float[] v = new float[SHAPE.kvHeads() * SHAPE.headDim()];
        for (int h = 0; h < SHAPE.kvHeads(); h++) {
            for (int i = 0; i < SHAPE.headDim(); i++) {
                v[h * SHAPE.headDim() + i] = value(salt, layer, kv, h, position, i);
            }
        }
        return v;
    }

    static void writeToken(Sequence s, int salt, int position) {
        for (int l = 0; l < SHAPE.layers(); l++) {
            s.write(l, position, token(salt, l, 0, position), token(salt, l, 1, position));
        }
    }

    static void assertToken(Sequence s, int salt, int position) {
        float[] got = new float[SHAPE.headDim()];
        for (int l = 0; l < SHAPE.layers(); l++) {
            for (int h = 0; h < SHAPE.kvHeads(); h++) {
                s.readKey(l, h, position, got, 0);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(value(salt, l, 0, h, position, i), got[i], "key l" + l + " h" + h + " p" + position);
                }
                s.readValue(l, h, position, got, 0);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(value(salt, l, 1, h, position, i), got[i], "value l" + l + " h" + h + " p" + position);
                }
            }
        }
    }

    @Test
    void appendAllocatesABlockOnlyWhenTheLastOneIsFull() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence s = cache.openSequence();
            assertEquals(0, s.blockCount());
            s.append(1);
            assertEquals(1, s.blockCount());
            s.append(3);
            assertEquals(1, s.blockCount());
            assertEquals(4, s.length());
            s.append(1);
            assertEquals(2, s.blockCount());
            s.append(7);
            assertEquals(3, s.blockCount());
            assertEquals(12, s.length());
            assertEquals(5, cache.freeBlocks());
        }
    }

    @Test
    void writtenKvReadsBackExactlyInF32() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence s = cache.openSequence();
            s.append(10);
            for (int p = 0; p < 10; p++) {
                writeToken(s, 1, p);
            }
            for (int p = 0; p < 10; p++) {
                assertToken(s, 1, p);
            }
        }
    }

    @Test
    void perHeadWritesAndSegmentWritesLandInTheSameSlots() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Sequence s = cache.openSequence();
            s.append(6);
            int d = SHAPE.headDim();
            for (int p = 0; p < 3; p++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    float[] k = token(2, l, 0, p);
                    float[] v = token(2, l, 1, p);
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        s.writeKey(l, h, p, k, h * d);
                        s.writeValue(l, h, p, v, h * d);
                    }
                }
            }
            for (int p = 3; p < 6; p++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    MemorySegment k = arena.allocate((long) SHAPE.kvHeads() * d * 4);
                    MemorySegment v = arena.allocate((long) SHAPE.kvHeads() * d * 4);
                    MemorySegment.copy(token(2, l, 0, p), 0, k, LE, 0, SHAPE.kvHeads() * d);
                    MemorySegment.copy(token(2, l, 1, p), 0, v, LE, 0, SHAPE.kvHeads() * d);
                    if (p == 5) {
                        for (int h = 0; h < SHAPE.kvHeads(); h++) {
                            s.writeKey(l, h, p, k, (long) h * d * 4);
                            s.writeValue(l, h, p, v, (long) h * d * 4);
                        }
                    } else {
                        s.write(l, p, k, v);
                    }
                }
            }
            assertEquals(0, s.written(0), "per-head writes do not advance the written mark");
            s.markWritten(6); // the engine states what it wrote head by head
            for (int p = 0; p < 6; p++) {
                assertToken(s, 2, p);
            }
        }
    }

    @Test
    void keyAndValueViewsAreContiguousRunsOfOneHead() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence s = cache.openSequence();
            s.append(6);
            for (int p = 0; p < 6; p++) {
                writeToken(s, 3, p);
            }
            int d = SHAPE.headDim();
            for (int b = 0; b < s.blockCount(); b++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        MemorySegment keys = cache.keys(s.blockId(b), l, h);
                        MemorySegment values = s.values(b, l, h);
                        assertEquals((long) LAYOUT.blockSize() * d * 4, keys.byteSize());
                        int tokens = Math.min(LAYOUT.blockSize(), s.length() - b * LAYOUT.blockSize());
                        for (int slot = 0; slot < tokens; slot++) {
                            int p = b * LAYOUT.blockSize() + slot;
                            for (int i = 0; i < d; i++) {
                                assertEquals(value(3, l, 0, h, p, i), keys.get(LE, (long) (slot * d + i) * 4));
                                assertEquals(value(3, l, 1, h, p, i), values.get(LE, (long) (slot * d + i) * 4));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void tryAppendReturnsFalseAndChangesNothingWhenThePoolIsShort() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 3)) {
            Sequence a = cache.openSequence();
            a.append(9); // 3 blocks
            Sequence b = cache.openSequence();
            CacheStats before = cache.stats();
            assertFalse(cache.canAppend(b, 1));
            assertFalse(b.tryAppend(1));
            assertTrue(cache.canAppend(a, 3));
            assertTrue(a.tryAppend(3)); // fills the last block, no new one
            assertFalse(a.tryAppend(1));
            assertEquals(12, a.length());
            assertEquals(0, b.length());
            PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> b.append(5));
            assertEquals(2, e.requested());
            assertEquals(0, e.free());
            assertEquals(before.usedBlocks(), cache.stats().usedBlocks());
        }
    }

    @Test
    void forkSharesBlocksAndCopyOnWriteIsolatesLaterWrites() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            Sequence parent = cache.openSequence();
            parent.append(8);
            for (int p = 0; p < 8; p++) {
                writeToken(parent, 1, p);
            }
            Sequence child = parent.fork();
            assertEquals(8, child.length());
            assertEquals(2, child.blockCount());
            for (int b = 0; b < 2; b++) {
                assertEquals(parent.blockId(b), child.blockId(b));
                assertEquals(2, cache.pool().refCount(parent.blockId(b)));
            }
            assertEquals(2, cache.stats().sharedBlocks());
            int used = cache.stats().usedBlocks();

            writeToken(child, 7, 5); // into the shared block 1: copied first
            assertEquals(used + 1, cache.stats().usedBlocks());
            assertEquals(1, cache.stats().copyOnWriteCopies());
            assertNotEquals(parent.blockId(1), child.blockId(1));
            assertEquals(parent.blockId(0), child.blockId(0));
            assertToken(parent, 1, 5);
            assertToken(child, 7, 5);
            assertToken(child, 1, 4); // the copy kept the rest of the block

            writeToken(parent, 9, 5); // parent's block 1 is exclusive again: written in place
            assertEquals(1, cache.stats().copyOnWriteCopies());
            assertToken(child, 7, 5);
            assertToken(parent, 9, 5);
        }
    }

    @Test
    void appendIntoASharedPartlyFilledBlockCopiesItAtAppendTime() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            Sequence parent = cache.openSequence();
            parent.append(6);
            for (int p = 0; p < 6; p++) {
                writeToken(parent, 1, p);
            }
            Sequence child = parent.fork();
            assertEquals(1, cache.canAppend(child, 1) ? child.blocksToAppend(1) : -1);
            child.append(1);
            assertEquals(1, cache.stats().copyOnWriteCopies());
            assertNotEquals(parent.blockId(1), child.blockId(1));
            writeToken(child, 4, 6);
            parent.append(1); // now exclusive: no copy
            assertEquals(1, cache.stats().copyOnWriteCopies());
            writeToken(parent, 5, 6);
            assertToken(child, 4, 6);
            assertToken(parent, 5, 6);
            for (int p = 0; p < 6; p++) {
                assertToken(child, 1, p);
                assertToken(parent, 1, p);
            }
        }
    }

    @Test
    void closeReleasesBlocksAndASecondCloseDoesNothing() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence a = cache.openSequence();
            a.append(8);
            Sequence b = a.fork();
            a.close();
            assertEquals(2, cache.stats().usedBlocks());
            assertEquals(0, cache.stats().sharedBlocks());
            b.close();
            assertEquals(8, cache.freeBlocks());
            b.close(); // idempotent, as Closeable asks
            assertEquals(8, cache.freeBlocks());
            assertThrows(IllegalStateException.class, () -> b.append(1));
            assertThrows(IllegalStateException.class, () -> b.readKey(0, 0, 0, new float[8], 0));
            assertThrows(IllegalStateException.class, b::fork);
            assertEquals(0, cache.stats().openSequences());
        }
    }

    @Test
    void statsCountLiveTokensAndEmptySlots() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence a = cache.openSequence();
            a.append(5); // 2 blocks, 3 empty slots
            Sequence b = cache.openSequence();
            b.append(4); // 1 block, full
            CacheStats st = cache.stats();
            assertEquals(8, st.totalBlocks());
            assertEquals(3, st.usedBlocks());
            assertEquals(5, st.freeBlocks());
            assertEquals(9, st.liveTokens());
            assertEquals(3, st.emptySlots());
            assertEquals(3.0 / 12, st.internalFragmentation(), 1e-12);
            assertEquals(2, st.openSequences());
            assertEquals(2, cache.blocksNeeded(5));
            assertEquals(0, cache.blocksNeeded(0));
        }
    }

    @Test
    void closingTheCacheMakesSequencesUnusable() {
        PagedKvCache cache = new PagedKvCache(LAYOUT, 8);
        Sequence a = cache.openSequence();
        a.append(2);
        writeToken(a, 1, 0);
        MemorySegment keys = a.keys(0, 0, 0);
        cache.close();
        assertThrows(IllegalStateException.class, () -> a.append(1));
        assertThrows(IllegalStateException.class, () -> a.readKey(0, 0, 0, new float[8], 0));
        assertThrows(IllegalStateException.class, () -> keys.get(LE, 0));
        assertThrows(IllegalStateException.class, cache::openSequence);
    }

    @Test
    void ofBytesSizesThePoolByMemory() {
        long perBlock = LAYOUT.bytesPerBlock();
        try (PagedKvCache cache = PagedKvCache.ofBytes(LAYOUT, perBlock * 10 + perBlock / 2)) {
            assertEquals(10, cache.stats().totalBlocks());
        }
        assertThrows(IllegalArgumentException.class, () -> PagedKvCache.ofBytes(LAYOUT, perBlock - 1));
    }

    @Test
    void blockTableCopyMatchesBlockIds() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence s = cache.openSequence();
            s.append(9);
            int[] t = new int[3];
            assertEquals(3, s.copyBlockTable(t));
            assertArrayEquals(new int[] {s.blockId(0), s.blockId(1), s.blockId(2)}, t);
            assertThrows(IndexOutOfBoundsException.class, () -> s.blockId(3));
        }
    }
}
