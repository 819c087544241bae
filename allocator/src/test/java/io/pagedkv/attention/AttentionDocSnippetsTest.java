package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Java snippet of docs/decoder.md's PagedAttention section, compiled and run: the doc fence is
 * quoted verbatim from the code between its {@code // snippet:} markers ({@code DocSnippetsTest} in
 * examples checks it).
 */
class AttentionDocSnippetsTest {

    @Test
    void theDocumentedCallsDecodeAndPrefillWhatTheSlotAndPositionFormsAgreeOn() {
        ModelShape shape = ModelShape.of("tiny", 1, 4, 2, 16);
        KvDType dtype = KvDType.F32;
        CacheLayout layout = new CacheLayout(shape, dtype, 4);
        SplittableRandom r = new SplittableRandom(3);
        int width = shape.queryHeads() * shape.headDim();
        int layer = 0;
        float[] q = new float[width];
        float[] queries = new float[2 * width];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = (float) r.nextGaussian();
        }
        System.arraycopy(queries, width, q, 0, width);
        try (PagedKvCache cache = new PagedKvCache(layout, 8)) {
            Sequence seq = cache.openSequence();
            seq.append(10);
            float[] kv = new float[shape.kvHeads() * shape.headDim()];
            for (int p = 0; p < 10; p++) {
                for (int i = 0; i < kv.length; i++) {
                    kv[i] = (float) r.nextGaussian();
                }
                seq.write(layer, p, kv, kv);
            }
            int start = 8;
            int count = 2;
            int slots = seq.length();
            int[] positions = new int[slots];
            for (int s = 0; s < slots; s++) {
                positions[s] = s == 3 ? PagedAttention.HOLE : s;   // slot 3 was evicted
            }
            int firstPosition = 8;
            float[] out = new float[width];
            float[] outs = new float[2 * width];
            float[] weightsOrNull = new float[shape.queryHeads() * slots];
            // snippet:decoder-paged-attention
            PagedAttention attention = PagedAttention.create(cache);                  // one per thread; cache's codecs (per-head FP8 scales)
            BlockTableView table = BlockTableView.of(seq);                            // live view: length() = seq.length(); no copy
            attention.decode(table, seq.length(), layer, q, 0, out, 0, weightsOrNull);
            attention.prefill(table, start, count, layer, queries, 0, outs, 0);       // causal, slot = position
            // after eviction: slot s holds position positions[s], or PagedAttention.HOLE (weight 0)
            attention.decode(table, slots, positions, layer, q, 0, out, 0, weightsOrNull);
            attention.prefill(table, slots, positions, firstPosition, count, layer, queries, 0, outs, 0); // causal by position
            SegmentAttention contiguous = SegmentAttention.create(shape, dtype);      // the same loops over one segment per KV head
            // end-snippet
            for (int h = 0; h < shape.queryHeads(); h++) {
                assertEquals(0f, weightsOrNull[h * slots + 3], "the hole gets weight 0");
            }
            assertTrue(contiguous != null && Float.isFinite(out[0]) && Float.isFinite(outs[width]));
            seq.close();
        }
        assertEquals(EvictingSequence.HOLE, PagedAttention.HOLE, "the kernel's hole is the evicting sequence's");
    }
}
