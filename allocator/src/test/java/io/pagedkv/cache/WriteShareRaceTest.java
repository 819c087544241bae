package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 24 item 3: a writer thread rewrites a token of a sequence while another thread forks it or
 * commits its prefix. A block that became shared must never change afterwards: whatever a fork (or a
 * prefix hit) reads right after sharing, it reads again later, and never a half-written token.
 */
class WriteShareRaceTest {

    static final int HEAD_DIM = 128;
    static final int HEADS = 64; // a token write takes microseconds: long enough to overlap a fork
    static final int WIDTH = HEADS * HEAD_DIM;
    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("race", 1, HEADS, HEADS, HEAD_DIM), KvDType.F32, 4);
    static final int ROUNDS = 300;
    static final int[] IDS = {11, 12, 13, 14, 15};

    @Test
    void aWriteRacingForkIsNeverSeenByTheFork() throws Exception {
        race(parent -> {
            Sequence child = parent.fork();
            return new Shared(child, child.blockId(0));
        });
    }

    @Test
    void aWriteRacingCommitPrefixIsNeverSeenByAPrefixHit() throws Exception {
        race(parent -> {
            int indexed = parent.blockId(0);
            parent.commitPrefix(); // from here on the index holds the block: it must never change
            return new Shared(null, indexed);
        });
    }

    /** What sharing left: an optional sequence to close, and the shared block. */
    record Shared(Sequence holder, int block) {
    }

    /** Each round: a writer rewrites position 1 with 1, 2, 3, ... while {@code share} shares the block. */
    private static void race(Function<Sequence, Shared> share) throws Exception {
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 64)) {
            float[] row = new float[WIDTH];
            float[] first = new float[WIDTH];
            float[] again = new float[WIDTH];
            for (int round = 0; round < ROUNDS; round++) {
                Sequence parent = cache.openSequence(IDS);
                parent.appendTokens(IDS, 0, 4);
                for (int p = 0; p < 4; p++) {
                    Arrays.fill(row, 0f);
                    parent.write(0, p, row, row);
                }
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    float[] v = new float[WIDTH];
                    try {
                        for (int i = 1; !stop.get(); i++) {
                            Arrays.fill(v, i);
                            parent.write(0, 1, v, v);
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                writer.start();
                Thread.onSpinWait();
                Shared shared = share.apply(parent);
                readToken(cache, shared.block(), first);
                for (int i = 0; i < 2_000; i++) {
                    Thread.onSpinWait();
                }
                readToken(cache, shared.block(), again);
                stop.set(true);
                writer.join();
                if (failure.get() != null) {
                    throw new AssertionError("writer failed", failure.get());
                }
                for (int i = 1; i < WIDTH; i++) {
                    assertEquals(first[0], first[i], "round " + round + ": a torn token in the shared block");
                }
                assertTrue(Arrays.equals(first, again), "round " + round + ": the shared block changed after sharing: "
                        + first[0] + " then " + again[0]);
                if (shared.holder() != null) {
                    shared.holder().close();
                }
                parent.close();
                cache.resetPrefixCache();
            }
        }
    }

    /** Keys of every head of slot 1 of a block, read straight from the block's bytes. */
    private static void readToken(PagedKvCache cache, int block, float[] out) {
        for (int h = 0; h < HEADS; h++) {
            java.lang.foreign.MemorySegment keys = cache.keys(block, 0, h);
            java.lang.foreign.MemorySegment.copy(keys, java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) HEAD_DIM * Float.BYTES,
                    out, h * HEAD_DIM, HEAD_DIM);
        }
    }
}
