package io.pagedkv.cache;

import static io.pagedkv.cache.PagedKvCacheTest.LAYOUT;
import static io.pagedkv.cache.PagedKvCacheTest.SHAPE;
import static io.pagedkv.cache.PagedKvCacheTest.token;
import static io.pagedkv.cache.PagedKvCacheTest.writeToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.CacheSnapshot;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every bad input the allocator issue lists: each throws a clear exception naming the value and
 * the limit, and leaves the cache exactly as it was (stats, lengths, block tables and every byte of
 * every allocated block).
 */
class BadInputTest {

    private PagedKvCache cache;
    private Sequence seq;
    private Sequence fork;

    @BeforeEach
    void setUp() {
        cache = new PagedKvCache(LAYOUT, 8);
        seq = cache.openSequence();
        seq.append(6);
        for (int p = 0; p < 6; p++) {
            writeToken(seq, 1, p);
        }
        fork = seq.fork(); // shared blocks: a bad write must not trigger a copy either
    }

    @AfterEach
    void tearDown() {
        cache.close();
    }

    private CacheSnapshot snapshot() {
        return CacheSnapshot.of(cache, List.of(seq, fork));
    }

    private <T extends Throwable> void rejects(Class<T> type, String messagePart, Executable call) {
        CacheSnapshot before = snapshot();
        T e = assertThrows(type, call);
        assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
        before.assertUnchanged(snapshot());
    }

    @Test
    void zeroOrNegativeAppendSizesAreRejected() {
        rejects(IllegalArgumentException.class, "n: 0 (expected: > 0", () -> seq.append(0));
        rejects(IllegalArgumentException.class, "n: -3 (expected: > 0", () -> seq.tryAppend(-3));
        rejects(IllegalArgumentException.class, "n: -1", () -> cache.canAppend(seq, -1));
        rejects(IllegalArgumentException.class, "tokens: -1", () -> cache.blocksNeeded(-1));
        rejects(IllegalArgumentException.class, "n: -1", () -> cache.blockPool().allocate(-1, new int[2]));
    }

    @Test
    void zeroOrNegativePoolAndBlockSizesAreRejected() {
        assertEquals("blockCount: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(LAYOUT, 0)).getMessage());
        assertEquals("blockCount: -4 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(LAYOUT, -4)).getMessage());
        assertEquals("blockSize: 0 (expected: > 0 tokens)", assertThrows(IllegalArgumentException.class,
                () -> new CacheLayout(SHAPE, KvDType.F32, 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CacheLayout(SHAPE, KvDType.F32, -16));
    }

    @Test
    void aBlockSizeThatOverflowsIsRejected() {
        ModelShape big = ModelShape.of("big", 80, 64, 8, 128);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CacheLayout(big, KvDType.F32, 1 << 20));
        assertTrue(e.getMessage().contains("blockSize: 1048576"), e.getMessage());
        assertTrue(e.getMessage().contains("expected: <= " + Integer.MAX_VALUE), e.getMessage());
        IllegalArgumentException pool = assertThrows(IllegalArgumentException.class,
                () -> new BlockPool(Integer.MAX_VALUE, CacheLayout.MAX_BLOCK_BYTES * 8));
        assertTrue(pool.getMessage().contains("overflows"), pool.getMessage());
    }

    @Test
    void aLengthThatWouldOverflowAnIntIsRejected() {
        rejects(IllegalArgumentException.class, "expected: <= " + Integer.MAX_VALUE,
                () -> seq.append(Integer.MAX_VALUE - 3));
    }

    @Test
    void vectorsOfTheWrongLengthAreRejected() {
        int n = SHAPE.kvHeads() * SHAPE.headDim();
        float[] ok = token(9, 0, 0, 2);
        rejects(IllegalArgumentException.class, "keys.length: " + (n - 1) + " (expected: kvHeads * headDim = " + n,
                () -> seq.write(0, 2, new float[n - 1], ok));
        rejects(IllegalArgumentException.class, "values.length: " + (n + 1),
                () -> seq.write(0, 2, ok, new float[n + 1]));
        rejects(IllegalArgumentException.class, "keys.length: null", () -> seq.write(0, 2, null, ok));
        rejects(IllegalArgumentException.class, "src offset: 9 with length 16",
                () -> seq.writeKey(0, 0, 2, new float[16], 9));
        rejects(IllegalArgumentException.class, "src offset: -1", () -> seq.writeValue(0, 0, 2, ok, -1));
        rejects(IllegalArgumentException.class, "dst offset: 1 with length 8",
                () -> seq.readKey(0, 0, 2, new float[8], 1));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate((long) n * 4 - 4);
            MemorySegment right = arena.allocate((long) n * 4);
            rejects(IllegalArgumentException.class, "keys.byteSize: " + (n * 4 - 4),
                    () -> seq.write(0, 2, small, right));
            rejects(IllegalArgumentException.class, "src.byteSize: " + (n * 4) + " at offset " + (n * 4 - 8),
                    () -> seq.writeKey(0, 1, 2, right, (long) n * 4 - 8));
        }
    }

    @Test
    void layerOrHeadOutOfRangeIsRejected() {
        float[] k = token(9, 0, 0, 2);
        float[] h = new float[SHAPE.headDim()];
        int layers = SHAPE.layers();
        int heads = SHAPE.kvHeads();
        rejects(IndexOutOfBoundsException.class, "layer: " + layers + " (expected: 0 <= layer < " + layers,
                () -> seq.write(layers, 2, k, k));
        rejects(IndexOutOfBoundsException.class, "layer: -1", () -> seq.writeKey(-1, 0, 2, h, 0));
        rejects(IndexOutOfBoundsException.class, "head: " + heads + " (expected: 0 <= head < kvHeads " + heads,
                () -> seq.writeValue(0, heads, 2, h, 0));
        rejects(IndexOutOfBoundsException.class, "head: -1", () -> seq.readValue(0, -1, 2, h, 0));
        rejects(IndexOutOfBoundsException.class, "layer: 5", () -> cache.keys(seq.blockId(0), 5, 0));
        rejects(IndexOutOfBoundsException.class, "head: 9", () -> cache.values(seq.blockId(0), 0, 9));
        rejects(IndexOutOfBoundsException.class, "index: 2 (expected: 0 <= index < blockCount 2",
                () -> seq.keys(2, 0, 0));
    }

    @Test
    void aWritePastTheAppendedLengthIsRejected() {
        float[] k = token(9, 0, 0, 6);
        rejects(IndexOutOfBoundsException.class, "position: 6 (expected: 0 <= position < length 6",
                () -> seq.write(0, 6, k, k));
        rejects(IndexOutOfBoundsException.class, "position: 7", () -> seq.writeKey(0, 0, 7, new float[8], 0));
        rejects(IndexOutOfBoundsException.class, "position: -1", () -> seq.readKey(0, 0, -1, new float[8], 0));
    }

    @Test
    void useAfterCloseIsRejected() {
        Sequence third = seq.fork();
        third.close();
        float[] k = token(9, 0, 0, 1);
        third.close(); // idempotent
        rejects(IllegalStateException.class, "sequence " + third.id() + ": closed (expected: open)", () -> third.append(1));
        rejects(IllegalStateException.class, "closed", () -> third.append(1));
        rejects(IllegalStateException.class, "closed", () -> third.tryAppend(1));
        rejects(IllegalStateException.class, "closed", () -> third.write(0, 1, k, k));
        rejects(IllegalStateException.class, "closed", () -> third.readKey(0, 0, 1, new float[8], 0));
        rejects(IllegalStateException.class, "closed", third::fork);
        rejects(IllegalStateException.class, "closed", () -> cache.canAppend(third, 1));
        assertEquals(0, third.blockCount(), "a closed sequence names no blocks");
    }

    @Test
    void viewsOfAFreeOrUnknownBlockAreRejected() {
        int free = -1;
        for (int b = 0; b < cache.pool().blockCount(); b++) {
            if (cache.pool().refCount(b) == 0) {
                free = b;
                break;
            }
        }
        int freeId = free;
        rejects(IllegalStateException.class, "blockId: " + freeId + " (expected: allocated", () -> cache.keys(freeId, 0, 0));
        rejects(IllegalArgumentException.class, "blockId: 8 (expected: 0 <= blockId < 8", () -> cache.block(8));
        rejects(IllegalArgumentException.class, "blockId: -1", () -> cache.values(-1, 0, 0));
    }

    @Test
    void aDoubleReleaseOfAPoolBlockIsRejected() {
        BlockPool pool = cache.blockPool();
        int id = pool.allocate();
        pool.release(id);
        rejects(IllegalStateException.class, "blockId: " + id + " (expected: allocated, was: free)",
                () -> pool.release(id));
    }

    @Test
    void aQ8_0ValueRejectedInTheLastHeadLeavesEveryHeadAndEveryBlockUnchanged() {
        ModelShape shape = ModelShape.of("q8", 1, 2, 2, 32);
        try (PagedKvCache q8 = new PagedKvCache(new CacheLayout(shape, KvDType.Q8_0, 4), 4)) {
            Sequence parent = q8.openSequence();
            parent.append(2);
            float[] keys = new float[2 * 32];
            float[] values = new float[2 * 32];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = i * 0.25f;
                values[i] = -i * 0.5f;
            }
            parent.write(0, 0, keys, values);
            parent.write(0, 1, keys, values);
            Sequence child = parent.fork(); // the block is shared: a rejected write must not copy it
            CacheSnapshot before = CacheSnapshot.of(q8, List.of(parent, child));
            float[] bad = values.clone();
            bad[bad.length - 1] = Float.NaN; // last value of the last head
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> child.write(0, 1, keys, bad));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> child.writeValue(0, 1, 1, bad, 32));
            before.assertUnchanged(CacheSnapshot.of(q8, List.of(parent, child)));
            assertEquals(0, q8.stats().copyOnWriteCopies());
        }
    }
}
