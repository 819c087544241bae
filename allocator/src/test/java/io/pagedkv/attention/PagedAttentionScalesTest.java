package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/**
 * Issue 24 item 9: {@code PagedAttention.create(layout)} cannot know a cache's per-head FP8 scales,
 * so on an FP8 layout it must refuse instead of silently decoding every head with scale 1.
 */
class PagedAttentionScalesTest {

    private static final ModelShape SHAPE = ModelShape.of("t", 2, 4, 2, 32);

    @Test
    void createFromAnFp8LayoutAloneIsRejectedBecauseItCannotKnowTheCachesPerHeadScales() {
        for (KvDType fp8 : new KvDType[] {KvDType.FP8_E4M3, KvDType.FP8_E5M2}) {
            CacheLayout layout = new CacheLayout(SHAPE, fp8, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PagedAttention.create(layout));
            assertTrue(e.getMessage().contains(fp8.label()) && e.getMessage().contains("create(cache)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> PagedAttention.scalar(layout));
        }
    }
}
