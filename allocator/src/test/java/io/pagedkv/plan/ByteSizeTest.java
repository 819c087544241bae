package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void parsesDecimalAndBinaryUnits() {
        assertEquals(80L << 30, ByteSize.parse("80GiB").bytes());
        assertEquals(24_000_000_000L, ByteSize.parse("24GB").bytes());
        assertEquals(512L << 20, ByteSize.parse("512MiB").bytes());
        assertEquals(512L << 20, ByteSize.parse(" 512 mib ").bytes());
        assertEquals(3L << 29, ByteSize.parse("1.5GiB").bytes());
        assertEquals(1_000, ByteSize.parse("1000").bytes());
        assertEquals(1_000, ByteSize.parse("1kB").bytes());
        assertEquals(1L << 40, ByteSize.parse("1TiB").bytes());
    }

    @Test
    void rejectsAmbiguousUnknownFractionalNegativeAndHugeSizes() {
        String m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("80G")).getMessage();
        assertTrue(m.contains("ambiguous") && m.contains("GB") && m.contains("GiB"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("80GiBs")).getMessage();
        assertTrue(m.contains("unknown unit 'GiBs'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("1.5")).getMessage();
        assertTrue(m.contains("whole number of bytes"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("-1GiB")).getMessage();
        assertTrue(m.contains("'-1GiB'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("9000000TiB")).getMessage();
        assertTrue(m.contains(String.valueOf(Long.MAX_VALUE)), m);
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(""));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(null));
    }

    @Test
    void printsBothUnits() {
        assertEquals("42.95 GB / 40.00 GiB", ByteSize.ofGiB(40).both());
        assertEquals("80GiB", ByteSize.ofGiB(80).toString());
        assertEquals("1000B", new ByteSize(1000).toString());
        assertEquals("-1.07 GB / -1.00 GiB", ByteSize.both(-(1L << 30)));
    }
}
