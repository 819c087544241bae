package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A prefix commit does a bounded amount of work per block whatever the prompt's length (issue 27
 * goal 3): one index entry, a copy of its ids and a child link per block, measured with the JVM's
 * per-thread allocation counter as {@code PrefixCacheBenchmark.commit} runs it (a fresh sequence, an
 * emptied index). A rehash per commit, a list that grows with the index or a scan of the LRU would
 * show as bytes per block growing with the blocks. Allocation counts, not timings.
 */
class PrefixCommitCostTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("bench", 1, 1, 1, 4), KvDType.F32, 16);

    /** An entry (about 90 B), its 16 ids (80 B) and a child list on its parent (48 B): under 256 B. */
    static final long MAX_BYTES_PER_BLOCK = 256;

    @Test
    void commitAllocatesTheSameBoundedBytesPerBlockAt32And2048Blocks() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        double shortPrompt = bytesPerBlock(threads, 32);
        double longPrompt = bytesPerBlock(threads, 2048);
        assertTrue(shortPrompt <= MAX_BYTES_PER_BLOCK && longPrompt <= MAX_BYTES_PER_BLOCK, "bytes per block: "
                + shortPrompt + " at 32 blocks, " + longPrompt + " at 2048 (expected: <= " + MAX_BYTES_PER_BLOCK + ")");
        assertTrue(longPrompt <= shortPrompt + 8, "bytes per block: " + longPrompt + " at 2048 blocks against "
                + shortPrompt + " at 32 (expected: at most 8 more: the work per block must not grow with the blocks)");
    }

    /** The fewest bytes per block of 20 commits of a {@code blocks}-block prompt, each into an emptied index. */
    private static double bytesPerBlock(com.sun.management.ThreadMXBean threads, int blocks) {
        int[] prompt = new SplittableRandom(blocks).ints(blocks * 16 + 1, 0, 32_000).toArray();
        long least = Long.MAX_VALUE;
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, blocks + 2)) {
            for (int round = 0; round < 20; round++) {
                Sequence s = cache.openSequence();
                s.appendTokens(prompt, 0, prompt.length);
                s.markWritten(prompt.length);
                long before = threads.getCurrentThreadAllocatedBytes();
                int chain = s.commitPrefix();
                long bytes = threads.getCurrentThreadAllocatedBytes() - before;
                assertEquals(blocks, chain, "blocks indexed");
                assertEquals(blocks, cache.prefixStats().indexedBlocks(), "entries in the index after the commit");
                least = Math.min(least, bytes);
                s.close();
                cache.resetPrefixCache();
            }
        }
        return (double) least / blocks;
    }
}
