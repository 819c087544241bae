package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.CacheSnapshot;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The write API an engine with packed buffers needs (issue 23 item 7), the written mark's explicit
 * form and a writable block that resolves copy-on-write first (issue 24 item 2).
 */
class SequenceWriteApiTest {

    static final ModelShape SHAPE = ModelShape.of("tiny", 2, 4, 2, 8);
    static final CacheLayout LAYOUT = new CacheLayout(SHAPE, KvDType.F32, 4);
    static final int WIDTH = 2 * 8;

    static float[] token(float base) {
        float[] t = new float[WIDTH];
        for (int i = 0; i < WIDTH; i++) {
            t[i] = base + i;
        }
        return t;
    }

    static float[] readToken(Sequence s, int kv, int layer, int position) {
        float[] out = new float[WIDTH];
        for (int h = 0; h < 2; h++) {
            if (kv == CacheLayout.K) {
                s.readKey(layer, h, position, out, h * 8);
            } else {
                s.readValue(layer, h, position, out, h * 8);
            }
        }
        return out;
    }

    @Test
    void aTokenWrittenFromOffsetsIntoPackedBuffersReadsBackLikeAnExactWrite() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8); Arena arena = Arena.ofConfined()) {
            Sequence s = cache.openSequence();
            s.append(3);
            float[] packedK = new float[3 * WIDTH + 5];
            float[] packedV = new float[3 * WIDTH + 7];
            System.arraycopy(token(100), 0, packedK, 5 + WIDTH, WIDTH);
            System.arraycopy(token(-100), 0, packedV, 7 + 2 * WIDTH, WIDTH);
            s.write(0, 0, token(1), token(2));
            s.write(0, 1, packedK, 5 + WIDTH, packedV, 7 + 2 * WIDTH);
            MemorySegment segK = arena.allocate(4L * WIDTH * 4 + 12);
            MemorySegment segV = arena.allocate(4L * WIDTH * 4);
            MemorySegment.copy(token(300), 0, segK, ValueLayout.JAVA_FLOAT_UNALIGNED, 12 + 2L * WIDTH * 4, WIDTH);
            MemorySegment.copy(token(-300), 0, segV, ValueLayout.JAVA_FLOAT_UNALIGNED, 3L * WIDTH * 4, WIDTH);
            s.write(0, 2, segK, 12 + 2L * WIDTH * 4, segV, 3L * WIDTH * 4);
            assertEquals(3, s.written(0), "whole-token writes in order advance the mark");
            assertEquals(0, s.written(1));
            assertArrayEquals(token(100), readToken(s, CacheLayout.K, 0, 1));
            assertArrayEquals(token(-100), readToken(s, CacheLayout.V, 0, 1));
            assertArrayEquals(token(300), readToken(s, CacheLayout.K, 0, 2));
            assertArrayEquals(token(-300), readToken(s, CacheLayout.V, 0, 2));
        }
    }

    @Test
    void anOffsetPastTheBufferIsRejectedWithNothingChanged() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8); Arena arena = Arena.ofConfined()) {
            Sequence s = cache.openSequence();
            s.append(2);
            CacheSnapshot before = CacheSnapshot.of(cache, List.of(s));
            float[] buf = new float[WIDTH + 3];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.write(0, 0, buf, 4, buf, 0));
            assertTrue(e.getMessage().contains("keys offset: 4 with length 19"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.write(0, 0, buf, 0, buf, -1));
            MemorySegment seg = arena.allocate(WIDTH * 4L);
            assertThrows(IllegalArgumentException.class, () -> s.write(0, 0, seg, 4, seg, 0));
            before.assertUnchanged(CacheSnapshot.of(cache, List.of(s)));
            assertEquals(0, s.writtenTokens());
        }
    }

    @Test
    void markWrittenStatesOutOfOrderWritesAndNeverLowersTheMark() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence s = cache.openSequence();
            s.append(4);
            for (int l = 0; l < 2; l++) {
                s.write(l, 1, token(1), token(1)); // out of order: position 0 comes later
            }
            assertEquals(0, s.writtenTokens());
            for (int l = 0; l < 2; l++) {
                s.write(l, 0, token(0), token(0));
            }
            assertEquals(1, s.writtenTokens(), "the mark moves one position per in-order write");
            s.markWritten(2);
            assertEquals(2, s.writtenTokens());
            assertArrayEquals(token(1), readToken(s, CacheLayout.K, 1, 1));
            s.markWritten(1);
            assertEquals(2, s.writtenTokens(), "never lowered");
            s.markWritten(1, 3);
            assertEquals(3, s.written(1));
            assertEquals(2, s.written(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.markWritten(5));
            assertEquals("tokens: 5 (expected: 0 <= tokens <= length 4)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.markWritten(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> s.markWritten(2, 1));
            Sequence child = s.fork();
            assertEquals(2, child.writtenTokens(), "a fork inherits the marks");
        }
    }

    @Test
    void aWritableBlockIsTheSequencesOwnCopyAndItsWritesAreNotSeenByAFork() {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 8)) {
            Sequence parent = cache.openSequence();
            parent.append(4);
            for (int p = 0; p < 4; p++) {
                for (int l = 0; l < 2; l++) {
                    parent.write(l, p, token(p), token(-p));
                }
            }
            Sequence child = parent.fork();
            int shared = child.blockId(0);
            MemorySegment block = parent.writableBlock(0);
            assertNotEquals(shared, parent.blockId(0), "copy-on-write resolved before the view was handed out");
            assertEquals(1, cache.stats().copyOnWriteCopies());
            assertTrue(!block.isReadOnly());
            block.set(ValueLayout.JAVA_FLOAT, LAYOUT.offset(0, CacheLayout.K, 0, 2), 77f);
            float[] got = new float[8];
            parent.readKey(0, 0, 2, got, 0);
            assertEquals(77f, got[0]);
            child.readKey(0, 0, 2, got, 0);
            assertEquals(2f, got[0], "the fork keeps the shared bytes");
            Sequence grandchild = child.fork();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.blockPool().writableBlock(shared),
                    "the pool refuses a writable view of a shared block");
            assertTrue(e.getMessage().contains("refCount: 2"), e.getMessage());
            grandchild.close();
        }
    }
}
