package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockPoolTest {

    @Test
    void allocateHandsOutEveryBlockOnceThenNoBlock() {
        try (BlockPool pool = new BlockPool(5, 64)) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                int id = pool.allocate();
                assertTrue(id >= 0 && id < 5, "id " + id);
                assertTrue(seen.add(id), "handed out twice: " + id);
                assertEquals(1, pool.refCount(id));
            }
            assertEquals(BlockPool.NO_BLOCK, pool.allocate());
            assertEquals(0, pool.freeBlocks());
            assertEquals(5, pool.usedBlocks());
        }
    }

    @Test
    void idsComeOutAscendingAndAFreedBlockIsReusedFirst() {
        try (BlockPool pool = new BlockPool(4, 8)) {
            assertEquals(0, pool.allocate());
            assertEquals(1, pool.allocate());
            pool.free(0);
            assertEquals(0, pool.allocate());
            assertEquals(2, pool.allocate());
        }
    }

    @Test
    void allocateManyIsAllOrNothing() {
        try (BlockPool pool = new BlockPool(4, 8)) {
            int[] out = {-7, -7, -7, -7, -7};
            assertFalse(pool.allocate(5, out));
            assertArrayEquals(new int[] {-7, -7, -7, -7, -7}, out, "failed request must not touch out");
            assertEquals(4, pool.freeBlocks());
            assertTrue(pool.allocate(3, out));
            assertEquals(1, pool.freeBlocks());
            assertFalse(pool.allocate(2, out));
            assertEquals(1, pool.freeBlocks());
            assertTrue(pool.allocate(0, out));
            assertEquals(1, pool.freeBlocks());
        }
    }

    @Test
    void releaseFreesOnlyWhenTheLastReferenceGoes() {
        try (BlockPool pool = new BlockPool(2, 8)) {
            int id = pool.allocate();
            pool.retain(id);
            pool.retain(id);
            assertEquals(3, pool.refCount(id));
            assertEquals(1, pool.sharedBlocks());
            assertFalse(pool.release(id));
            assertFalse(pool.release(id));
            assertEquals(0, pool.sharedBlocks());
            assertEquals(1, pool.freeBlocks());
            assertTrue(pool.release(id));
            assertEquals(0, pool.refCount(id));
            assertEquals(2, pool.freeBlocks());
        }
    }

    @Test
    void doubleFreeThrowsNamingTheBlockAndChangesNothing() {
        try (BlockPool pool = new BlockPool(3, 8)) {
            int id = pool.allocate();
            pool.free(id);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.free(id));
            assertTrue(e.getMessage().contains("blockId: " + id), e.getMessage());
            assertThrows(IllegalStateException.class, () -> pool.release(id));
            assertThrows(IllegalStateException.class, () -> pool.retain(id));
            assertEquals(3, pool.freeBlocks());
            assertEquals(1, pool.generation(id));
        }
    }

    @Test
    void freeOfASharedBlockThrowsAndKeepsBothReferences() {
        try (BlockPool pool = new BlockPool(3, 8)) {
            int id = pool.allocate();
            pool.retain(id);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.free(id));
            assertTrue(e.getMessage().contains("refCount: 2"), e.getMessage());
            assertEquals(2, pool.refCount(id));
        }
    }

    @Test
    void idsOutOfRangeAreRejected() {
        try (BlockPool pool = new BlockPool(3, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.retain(3));
            assertEquals("blockId: 3 (expected: 0 <= blockId < 3)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> pool.release(-1));
            assertThrows(IllegalArgumentException.class, () -> pool.block(7));
            assertThrows(IllegalArgumentException.class, () -> pool.allocate(-1, new int[1]));
            assertThrows(IllegalArgumentException.class, () -> pool.allocate(2, new int[1]));
            assertEquals(3, pool.freeBlocks());
        }
    }

    @Test
    void badSizesAreRejectedWithTheValue() {
        assertEquals("blockCount: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new BlockPool(0, 8)).getMessage());
        assertEquals("bytesPerBlock: -8 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new BlockPool(4, -8)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new BlockPool(Integer.MAX_VALUE, Long.MAX_VALUE / 2))
                .getMessage().contains("overflows"));
    }

    @Test
    void aHandleGoesStaleWhenItsBlockIsFreed() {
        try (BlockPool pool = new BlockPool(2, 8)) {
            int id = pool.allocate();
            long h = pool.handle(id);
            assertEquals(id, BlockPool.handleId(h));
            assertEquals(0, BlockPool.handleGeneration(h));
            assertEquals(id, pool.resolve(h));
            pool.free(id);
            assertFalse(pool.isLive(h));
            assertThrows(IllegalStateException.class, () -> pool.resolve(h));
            int again = pool.allocate();
            assertEquals(id, again, "LIFO reuse");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.resolve(h));
            assertTrue(e.getMessage().contains("generation: 0") && e.getMessage().contains("generation 1"),
                    e.getMessage());
            long h2 = pool.handle(again);
            assertNotEquals(h, h2);
            assertEquals(again, pool.resolve(h2));
        }
    }

    @Test
    void memoryIsReservedLazilyChunkByChunk() {
        try (BlockPool pool = new BlockPool(10, 100, 4)) {
            assertEquals(0, pool.reservedBytes());
            pool.allocate();
            assertEquals(400, pool.reservedBytes());
            for (int i = 0; i < 4; i++) {
                pool.allocate();
            }
            assertEquals(800, pool.reservedBytes());
            assertEquals(2, pool.committedChunks());
        }
    }

    @Test
    void aHugePoolCostsNothingUntilUsed() {
        // 1 TiB of blocks: must not be reserved (or zero-filled) up front
        try (BlockPool pool = new BlockPool(1 << 20, 1L << 20)) {
            assertEquals(0, pool.reservedBytes());
            int id = pool.allocate();
            assertEquals(BlockPool.DEFAULT_CHUNK_BYTES, pool.reservedBytes());
            pool.writableBlock(id).set(ValueLayout.JAVA_LONG, 0, 42L);
            assertEquals(42L, pool.block(id).get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void blocksAreDisjointSlicesOfTheRightSize() {
        try (BlockPool pool = new BlockPool(6, 24, 4)) {
            int[] ids = new int[6];
            assertTrue(pool.allocate(6, ids));
            for (int id : ids) {
                MemorySegment b = pool.writableBlock(id);
                assertEquals(24, b.byteSize());
                b.fill((byte) id);
            }
            for (int id : ids) {
                MemorySegment b = pool.block(id);
                for (int i = 0; i < 24; i++) {
                    assertEquals((byte) id, b.get(ValueLayout.JAVA_BYTE, i));
                }
            }
            pool.copy(ids[1], ids[2]);
            assertEquals((byte) ids[1], pool.block(ids[2]).get(ValueLayout.JAVA_BYTE, 23));
        }
    }

    @Test
    void aFreeBlocksMemoryCannotBeTaken() {
        try (BlockPool pool = new BlockPool(2, 8)) {
            int id = pool.allocate();
            pool.free(id);
            assertThrows(IllegalStateException.class, () -> pool.block(id));
        }
    }

    @Test
    void closeReleasesMemorySoOldSegmentsFailInsteadOfReadingFreedMemory() {
        BlockPool pool = new BlockPool(2, 8);
        int id = pool.allocate();
        MemorySegment seg = pool.block(id);
        pool.close();
        assertTrue(pool.isClosed());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, pool::allocate);
        assertThrows(IllegalStateException.class, () -> pool.release(id));
        assertThrows(IllegalStateException.class, () -> pool.block(id));
        pool.close(); // idempotent
    }

    @Test
    void retainAllIsAllOrNothing() {
        try (BlockPool pool = new BlockPool(4, 8)) {
            int a = pool.allocate();
            int b = pool.allocate();
            int c = pool.allocate();
            pool.free(c);
            int[] ids = {a, b, c};
            assertThrows(IllegalStateException.class, () -> pool.retainAll(ids, 3));
            assertEquals(1, pool.refCount(a));
            assertEquals(1, pool.refCount(b));
            pool.retainAll(ids, 2);
            assertEquals(2, pool.refCount(a));
            assertEquals(2, pool.refCount(b));
            assertEquals(2, pool.sharedBlocks());
        }
    }
}
