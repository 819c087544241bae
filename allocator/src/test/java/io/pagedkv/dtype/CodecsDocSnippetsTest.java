package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The Java snippet of docs/codecs.md, compiled and run (DocSnippetsTest in examples checks the quote). */
class CodecsDocSnippetsTest {

    @Test
    void aQ4RoundTripAndAScaledFp8Codec() {
        float[] keys = new float[128];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (i % 16) - 8;
        }
        float[] out = new float[128];
        float kScale = 0.5f;
        long offset = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(72);
            // snippet:codecs-round-trip
            KvCodec q4 = KvCodecs.of(KvDType.Q4_0);               // fastest available path
            q4.encode(keys, 0, 128, block, offset);                // float[] -> 72 bytes
            q4.decode(block, offset, 128, out, 0);                 // 72 bytes -> float[]
            KvCodec fp8 = KvCodecs.of(KvDType.FP8_E4M3, kScale);   // vLLM-style scaled FP8
            // end-snippet
            assertEquals(KvDType.FP8_E4M3, fp8.dtype());
        }
        for (int i = 0; i < keys.length; i++) {
            assertEquals(keys[i], out[i], 1.0f, "q4_0 keeps a value within one step of its group's scale");
        }
    }
}
