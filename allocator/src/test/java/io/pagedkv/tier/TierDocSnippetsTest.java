package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Java snippet of docs/tiers.md, compiled and run: the doc fence is quoted verbatim from the code
 * between its {@code // snippet:} markers ({@code DocSnippetsTest} in examples checks it).
 */
class TierDocSnippetsTest {

    @Test
    void aBlockOffloadedThroughTheQueueIsRestoredByteForByte() throws InterruptedException {
        CacheLayout layout = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);
        int[] tokens = {5, 6, 7, 8};
        float[] kv = {1, 2, 3, 4, 5, 6, 7, 8};
        try (PagedKvCache cache = new PagedKvCache(layout, 4);
             HostMemoryStore store = HostMemoryStore.forLayout(layout, 1 << 20);
             Arena arena = Arena.ofShared()) {
            Sequence seq = cache.openSequence();
            seq.append(4);
            for (int p = 0; p < 4; p++) {
                seq.write(0, p, kv, kv);
            }
            LayoutFingerprint fp = LayoutFingerprint.of(layout);
            BlockKey key = fp.key(0x1234L, 0L);                 // the cold block this step offloads
            long parentHash = 0L;
            int from = 0;
            int blockSize = layout.blockSize();
            MemorySegment block = cache.block(seq.blockId(0));
            int[] hitTokens = {1, 2, 3, 4};                      // a prompt block stored by an earlier request
            BlockKey hitKey = fp.key(0x5678L, 0L);
            long hitParent = 0L;
            MemorySegment earlier = Blocks.payload(arena, 42, (int) layout.bytesPerBlock());
            assertTrue(store.put(hitKey, hitParent, hitTokens, 0, blockSize, earlier));
            MemorySegment freshBlock = arena.allocate(layout.bytesPerBlock(), 64);
            boolean queued;
            int r;
            // snippet:tiers-transfer-queue
            try (BlockTransferQueue q = BlockTransferQueue.forLayout(store, layout, 64 /* offload slots */,
                    64 /* waiting restores */, 2 /* workers */)) {
                queued = q.offload(key, parentHash, tokens, from, blockSize, block);   // copies, returns at once
                RestoreTicket t = q.restore(hitKey, hitParent, hitTokens, from, blockSize, freshBlock); // at once
                r = t.await(2, TimeUnit.SECONDS);   // or t.isDone() / t.result() at the next step
            }                                       // r = bytes restored, or MISS / REJECTED / TIMED_OUT ...
            // end-snippet
            assertTrue(queued);
            assertEquals(layout.bytesPerBlock(), r, "a verified hit restores the whole block");
            assertEquals(-1, freshBlock.mismatch(earlier), "byte for byte");
            // Closing the queue drops offloads still waiting (by design); one that got through holds the block's bytes.
            if (store.contains(key)) {
                MemorySegment back = arena.allocate(layout.bytesPerBlock(), 64);
                assertEquals(layout.bytesPerBlock(), store.get(key, parentHash, tokens, from, blockSize, back));
                assertEquals(-1, back.mismatch(block), "the offloaded block, byte for byte");
            }
            seq.close();
        }
    }
}
