package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The value format: the documented byte layout, and that no single damaged byte is ever accepted. */
class BlockValueFormatTest {

    static final BlockKey KEY = new BlockKey(0x1122334455667788L, 0x0102030405060708L, 42);

    static MemorySegment value(int[] tokens, MemorySegment payload) {
        MemorySegment v = MemorySegment.ofArray(new byte[(int) BlockValueFormat.valueBytes(tokens.length,
                payload.byteSize())]);
        return BlockValueFormat.encode(v, KEY, 7, tokens, 0, tokens.length, payload);
    }

    @Test
    void theHeaderFieldsSitAtTheDocumentedOffsetsLittleEndian() {
        int[] tokens = {10, 20, 30};
        MemorySegment p = Blocks.payload(1, 40);
        MemorySegment v = value(tokens, p);
        var le = ByteOrder.LITTLE_ENDIAN;
        assertEquals(48 + 12 + 40 + 4, v.byteSize());
        assertEquals('P', v.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals('K', v.get(ValueLayout.JAVA_BYTE, 1));
        assertEquals('V', v.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals('B', v.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(1, v.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), 4));
        assertEquals(KEY.fingerprint(), v.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 8));
        assertEquals(7L, v.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 16));
        assertEquals(KEY.hash(), v.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 24));
        assertEquals(42L, v.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 32));
        assertEquals(3, v.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 40));
        assertEquals(40, v.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 44));
        assertEquals(20, v.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 52));
        assertEquals(-1, v.asSlice(60, 40).mismatch(p));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v.asSlice(0, 100).toArray(ValueLayout.JAVA_BYTE));
        assertEquals((int) crc.getValue(), v.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 100));
        assertEquals(BlockValueFormat.OK, BlockValueFormat.verify(v, KEY, 7, tokens, 0, 3, 40));
    }

    @Test
    void everyFlippedByteOfAValueIsRejectedAsCorrupt() {
        Property.forAll(Gens.ints(0, 8), Gens.ints(0, 200), Gens.ints(0, 7)).check((count, at, bit) -> {
            int[] tokens = Blocks.tokens(count, count);
            MemorySegment v = value(tokens, Blocks.payload(count, 64));
            long pos = at % v.byteSize();
            v.set(ValueLayout.JAVA_BYTE, pos, (byte) (v.get(ValueLayout.JAVA_BYTE, pos) ^ (1 << bit)));
            assertEquals(BlockValueFormat.CORRUPT, BlockValueFormat.verify(v, KEY, 7, tokens, 0, count, 64),
                    "bit " + bit + " of byte " + pos + " flipped");
        });
    }

    @Test
    void anIntactValueOfAnotherKeyParentSaltOrTokensIsAMismatch() {
        int[] tokens = {1, 2, 3, 4};
        MemorySegment v = value(tokens, Blocks.payload(3, 32));
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, new BlockKey(1, KEY.hash(), 42), 7, tokens,
                0, 4, 32), "fingerprint");
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, new BlockKey(KEY.fingerprint(), 9, 42), 7,
                tokens, 0, 4, 32), "hash");
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, new BlockKey(KEY.fingerprint(), KEY.hash(),
                43), 7, tokens, 0, 4, 32), "salt");
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, KEY, 8, tokens, 0, 4, 32), "parent");
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, KEY, 7, new int[] {1, 2, 3, 5}, 0, 4, 32),
                "tokens");
        assertEquals(BlockValueFormat.MISMATCH, BlockValueFormat.verify(v, KEY, 7, new int[] {0, 1, 2, 3, 4}, 1, 4, 16),
                "payload length");
        assertEquals(BlockValueFormat.OK, BlockValueFormat.verify(v, KEY, 7, new int[] {0, 1, 2, 3, 4}, 1, 4, 32));
    }

    @Test
    void aTruncatedOrExtendedValueIsCorrupt() {
        int[] tokens = {1, 2};
        MemorySegment v = value(tokens, Blocks.payload(3, 32));
        assertEquals(BlockValueFormat.CORRUPT,
                BlockValueFormat.verify(v.asSlice(0, v.byteSize() - 1), KEY, 7, tokens, 0, 2, 32));
        MemorySegment longer = MemorySegment.ofArray(new byte[(int) v.byteSize() + 1]);
        MemorySegment.copy(v, 0, longer, 0, v.byteSize());
        assertEquals(BlockValueFormat.CORRUPT, BlockValueFormat.verify(longer, KEY, 7, tokens, 0, 2, 32));
        assertEquals(BlockValueFormat.CORRUPT, BlockValueFormat.verify(MemorySegment.ofArray(new byte[10]), KEY, 7,
                tokens, 0, 2, 32));
    }

    @Test
    void sizesBeyondTheFormatAreRefusedWithTheLimit() {
        var e = assertThrows(IllegalArgumentException.class, () -> BlockValueFormat.valueBytes(16, Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("2147483647"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockValueFormat.valueBytes(-1, 1));
    }

    @Test
    void blockKeyHexRoundTripsAndRejectsJunk() {
        Property.forAll(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE), Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE))
                .check((a, b) -> {
                    BlockKey k = new BlockKey(a, b, a ^ b);
                    assertEquals(k, BlockKey.parseHex(k.toHex()));
                });
        assertThrows(IllegalArgumentException.class, () -> BlockKey.parseHex("zz"));
        assertThrows(IllegalArgumentException.class,
                () -> BlockKey.parseHex("000000000000000g-0000000000000000-0000000000000000"));
        assertNotEquals(new BlockKey(1, 2, 3).toHex(), new BlockKey(1, 3, 2).toHex());
    }
}
