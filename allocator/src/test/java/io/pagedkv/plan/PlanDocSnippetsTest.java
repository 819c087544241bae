package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelPresets;
import org.junit.jupiter.api.Test;

/** The Java snippet of docs/plan.md, compiled and run (DocSnippetsTest in examples checks the quote). */
class PlanDocSnippetsTest {

    @Test
    void seventyBAt128kTimesFourDoesNotFitIn80GiB() {
        // snippet:plan-in-code
        MemoryPlan p = new MemoryPlan(ModelPresets.LLAMA_3_1_70B, KvDType.Q8_0, 16, WeightFormat.Q4_K_M,
                ByteSize.parse("1GiB").bytes(), Hardware.H100.usableBytes(), TokenCount.parse("128k"), 4, 512);
        p.fits();            // false
        p.maxContext();      // 60512
        p.maxConcurrency();  // 1
        // end-snippet
        assertFalse(p.fits());
        assertEquals(60512, p.maxContext());
        assertEquals(1, p.maxConcurrency());
    }
}
