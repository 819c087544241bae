package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HardwareAndWeightsTest {

    @Test
    void gpuPresetsHoldTheirBinaryCapacity() {
        assertEquals(24L << 30, Hardware.RTX_4090.usableBytes());
        assertEquals(32L << 30, Hardware.RTX_5090.usableBytes());
        assertEquals(80L << 30, Hardware.H100.usableBytes());
        assertEquals(141L << 30, Hardware.H200.usableBytes());
    }

    @Test
    void m4MaxBudgetsThreeQuartersOfItsUnifiedMemory() {
        assertEquals(128L << 30, Hardware.M4_MAX.totalBytes());
        assertEquals(96L << 30, Hardware.M4_MAX.usableBytes());
    }

    @Test
    void hardwareNamesParseLeniently() {
        assertEquals(Hardware.RTX_4090, Hardware.parse("rtx-4090"));
        assertEquals(Hardware.RTX_4090, Hardware.parse("RTX4090"));
        assertEquals(Hardware.RTX_5090, Hardware.parse("5090"));
        assertEquals(Hardware.M4_MAX, Hardware.parse("m4_max"));
        String m = assertThrows(IllegalArgumentException.class, () -> Hardware.parse("a100")).getMessage();
        assertTrue(m.contains("'a100'") && m.contains("h100") && m.contains("m4-max"), m);
    }

    @Test
    void weightFormatsParsePresetsAndCustomBits() {
        assertEquals(WeightFormat.Q4_K_M, WeightFormat.parse("Q4_K_M"));
        assertEquals(WeightFormat.Q4_K_M, WeightFormat.parse("q4-k-m"));
        assertEquals(8.5, WeightFormat.parse("q8_0").bitsPerWeight());
        assertEquals(16.0, WeightFormat.parse("bf16").bitsPerWeight());
        assertEquals(55_000, WeightFormat.parse("5.5bpw").bitsE4());
        assertEquals(11, WeightFormat.parse("5.5bpw").bytesFor(16));
        String m = assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse("q3")).getMessage();
        assertTrue(m.contains("'q3'") && m.contains("q4_k_m"), m);
        assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse("65bpw"));
    }
}
