package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {

    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static Map<String, GgufValue> everyType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("t.u8", GgufValue.ofInteger(GgufType.UINT8, 255));
        m.put("t.i8", GgufValue.ofInteger(GgufType.INT8, -128));
        m.put("t.u16", GgufValue.ofInteger(GgufType.UINT16, 65_535));
        m.put("t.i16", GgufValue.ofInteger(GgufType.INT16, -32_768));
        m.put("t.u32", GgufValue.ofInteger(GgufType.UINT32, 4_294_967_295L));
        m.put("t.i32", GgufValue.ofInteger(GgufType.INT32, Integer.MIN_VALUE));
        m.put("t.u64", GgufValue.ofInteger(GgufType.UINT64, -1L));
        m.put("t.i64", GgufValue.ofInteger(GgufType.INT64, Long.MIN_VALUE));
        m.put("t.f32", new GgufValue(GgufType.FLOAT32, -1.5e-3f));
        m.put("t.f64", new GgufValue(GgufType.FLOAT64, Math.PI));
        m.put("t.bool", new GgufValue(GgufType.BOOL, true));
        m.put("t.str", GgufValue.ofString("héllo ✓"));
        m.put("t.empty", GgufValue.ofString(""));
        m.put("t.arr.i32", GgufValue.ofArray(GgufType.INT32,
                List.of(GgufValue.ofInteger(GgufType.INT32, 1), GgufValue.ofInteger(GgufType.INT32, -2))));
        m.put("t.arr.str", GgufValue.ofArray(GgufType.STRING,
                List.of(GgufValue.ofString("<s>"), GgufValue.ofString("</s>"), GgufValue.ofString(""))));
        m.put("t.arr.empty", GgufValue.ofArray(GgufType.FLOAT32, List.of()));
        m.put("t.arr.nested", GgufValue.ofArray(GgufType.ARRAY, List.of(
                GgufValue.ofArray(GgufType.BOOL, List.of(new GgufValue(GgufType.BOOL, false))),
                GgufValue.ofArray(GgufType.UINT8, List.of(GgufValue.ofInteger(GgufType.UINT8, 7))))));
        return m;
    }

    private static byte[] file(int version, Map<String, GgufValue> metadata, int tensors) {
        GgufBytes b = GgufBytes.header(version, tensors, metadata.size());
        metadata.forEach(b::pair);
        for (int t = 0; t < tensors; t++) {
            b.tensor("blk." + t + ".weight", List.of(64L, 32L), t * 8192L);
        }
        return b.bytes();
    }

    @Test
    void readsEveryValueTypeIncludingNestedArraysInVersions2And3() throws IOException {
        for (int version : new int[] {2, 3}) {
            Map<String, GgufValue> expected = everyType();
            byte[] bytes = file(version, expected, 3);
            GgufHeader h = GgufReader.readHeader(write("all-v" + version + ".gguf", bytes));
            assertEquals(version, h.version());
            assertEquals(3, h.tensorCount());
            assertEquals(expected, h.metadata());
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(h.metadata().keySet()));
            assertEquals(3L * 64 * 32, h.tensorElements());
            assertEquals(bytes.length, h.headerBytes());
        }
    }

    @Test
    void readsTheHeaderOnlyAndIgnoresTensorData() throws IOException {
        byte[] header = file(3, everyType(), 1);
        byte[] withData = Arrays.copyOf(header, header.length + 1_000_000);
        GgufHeader h = GgufReader.readHeader(write("data.gguf", withData));
        assertEquals(header.length, h.headerBytes());
    }

    private static Map<String, GgufValue> llama(String arch) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.ofString(arch));
        m.put(arch + ".block_count", GgufValue.ofInteger(GgufType.UINT32, 80));
        m.put(arch + ".embedding_length", GgufValue.ofInteger(GgufType.UINT32, 8192));
        m.put(arch + ".attention.head_count", GgufValue.ofInteger(GgufType.UINT32, 64));
        m.put(arch + ".attention.head_count_kv", GgufValue.ofInteger(GgufType.UINT32, 8));
        return m;
    }

    @Test
    void aLlamaHeaderGivesItsAttentionShape() throws IOException {
        Map<String, GgufValue> m = llama("llama");
        m.put("general.parameter_count", GgufValue.ofInteger(GgufType.UINT64, 70_553_706_496L));
        ModelShape s = GgufReader.readShape(write("Llama-70B.Q4_K_M.gguf", file(3, m, 0)));
        assertEquals(new ModelShape("Llama-70B.Q4_K_M", 80, 64, 8, 128, 0, AttentionPattern.GLOBAL, 70_553_706_496L), s);
    }

    @Test
    void keyLengthWinsOverEmbeddingOverHeadsAndParametersFallBackToTensorElements() throws IOException {
        Map<String, GgufValue> m = llama("gemma2");
        m.put("gemma2.attention.key_length", GgufValue.ofInteger(GgufType.UINT32, 256));
        m.put("gemma2.attention.sliding_window", GgufValue.ofInteger(GgufType.UINT32, 4096));
        ModelShape s = GgufReader.readShape(write("g.gguf", file(3, m, 2)));
        assertEquals(256, s.headDim());
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL, s.pattern());
        assertEquals(4096, s.slidingWindow());
        assertEquals(2L * 64 * 32, s.parameters());
    }

    @Test
    void gptOssAlternatesAndAPerLayerFlagArrayIsMatchedToAPattern() throws IOException {
        Map<String, GgufValue> m = llama("gpt-oss");
        m.put("gpt-oss.block_count", GgufValue.ofInteger(GgufType.UINT32, 4));
        m.put("gpt-oss.attention.sliding_window", GgufValue.ofInteger(GgufType.UINT32, 128));
        ModelShape s = GgufReader.readShape(write("oss.gguf", file(3, m, 0)));
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL, s.pattern());
        assertEquals(128, s.slidingWindow());

        Map<String, GgufValue> f = llama("mystery");
        f.put("mystery.block_count", GgufValue.ofInteger(GgufType.UINT32, 4));
        f.put("mystery.attention.sliding_window", GgufValue.ofInteger(GgufType.UINT32, 512));
        GgufValue yes = new GgufValue(GgufType.BOOL, true);
        GgufValue no = new GgufValue(GgufType.BOOL, false);
        f.put("mystery.attention.sliding_window_pattern", GgufValue.ofArray(GgufType.BOOL, List.of(yes, no, yes, no)));
        assertEquals(AttentionPattern.ALTERNATING_SLIDING_GLOBAL,
                GgufReader.readShape(write("alt.gguf", file(3, f, 0))).pattern());
        f.put("mystery.attention.sliding_window_pattern", GgufValue.ofArray(GgufType.BOOL, List.of(yes, yes, yes, no)));
        ModelShape global = GgufReader.readShape(write("odd.gguf", file(3, f, 0)));
        assertEquals(AttentionPattern.GLOBAL, global.pattern(), "an unknown pattern over-estimates, as all-global");
        assertEquals(0, global.slidingWindow());
    }

    @Test
    void kvHeadCountDefaultsToHeadCount() throws IOException {
        Map<String, GgufValue> m = llama("gpt2");
        m.remove("gpt2.attention.head_count_kv");
        assertEquals(64, GgufReader.readShape(write("g2.gguf", file(2, m, 0))).kvHeads());
    }

    @Test
    void aPerLayerKvHeadArrayCountsItsLargestEntry() throws IOException {
        Map<String, GgufValue> m = llama("llama");
        m.put("llama.attention.head_count_kv", GgufValue.ofArray(GgufType.INT32, List.of(
                GgufValue.ofInteger(GgufType.INT32, 2), GgufValue.ofInteger(GgufType.INT32, 8))));
        assertEquals(8, GgufReader.readShape(write("per-layer.gguf", file(3, m, 0))).kvHeads());
    }

    @Test
    void missingShapeKeysAreNamed() throws IOException {
        Map<String, GgufValue> m = llama("llama");
        m.remove("llama.block_count");
        var e = assertThrows(ModelFormatException.class, () -> GgufReader.readShape(write("x.gguf", file(3, m, 0))));
        assertTrue(e.getMessage().contains("llama.block_count: missing"), e.getMessage());
        Map<String, GgufValue> noArch = llama("llama");
        noArch.remove("general.architecture");
        e = assertThrows(ModelFormatException.class, () -> GgufReader.readShape(write("y.gguf", file(3, noArch, 0))));
        assertTrue(e.getMessage().contains("general.architecture"), e.getMessage());
    }

    private String failure(byte[] bytes) {
        return assertThrows(ModelFormatException.class, () -> GgufReader.readHeader(write("bad.gguf", bytes)))
                .getMessage();
    }

    @Test
    void everyTruncationOfAValidFileFailsCleanly() throws IOException {
        byte[] good = file(3, everyType(), 2);
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            String m = assertThrows(ModelFormatException.class,
                    () -> GgufReader.readHeader(new BytesChannel(cut))).getMessage();
            assertTrue(m.contains("GGUF at byte"), "length " + len + ": " + m);
        }
    }

    @Test
    void badMagicIsNamed() {
        byte[] b = file(3, everyType(), 0);
        b[0] = 'X';
        assertTrue(failure(b).contains("not a GGUF file"));
    }

    @Test
    void unsupportedVersionsAreNamed() {
        assertTrue(failure(file(1, everyType(), 0)).contains("version: 1 (expected: 2 or 3"));
        assertTrue(failure(file(4, everyType(), 0)).contains("version: 4"));
        assertTrue(failure(file(0x03000000, everyType(), 0)).contains("big-endian"));
    }

    @Test
    void aStringLengthOf2Pow62FailsWithoutAllocating() {
        byte[] b = GgufBytes.header(3, 0, 1).u64(1L << 62).raw(new byte[64]).bytes();
        String m = failure(b);
        assertTrue(m.contains("length of metadata key 0: 4611686018427387904"), m);
        assertTrue(m.contains("bytes left in the file"), m);
        b = GgufBytes.header(3, 0, 1).str("k").u32(GgufType.STRING.id()).u64(-1L).bytes();
        assertTrue(failure(b).contains("18446744073709551615"));
    }

    @Test
    void anArrayCountLargerThanTheFileFailsWithoutAllocating() {
        byte[] b = GgufBytes.header(3, 0, 1).str("tokens").u32(GgufType.ARRAY.id()).u32(GgufType.STRING.id())
                .u64(1_000_000).raw(new byte[100]).bytes();
        String m = failure(b);
        assertTrue(m.contains("count of array 'tokens': 1000000"), m);
        b = GgufBytes.header(3, 0, 1).str("a").u32(GgufType.ARRAY.id()).u32(GgufType.UINT8.id())
                .u64(Long.MAX_VALUE).bytes();
        assertTrue(failure(b).contains(String.valueOf(Long.MAX_VALUE)));
    }

    @Test
    void arraysTogetherHoldAtMostTheElementCap() {
        int half = (int) (GgufReader.MAX_ARRAY_ELEMENTS / 2);
        GgufBytes b = GgufBytes.header(3, 0, 3);
        for (int i = 0; i < 3; i++) {
            b.str("a" + i).u32(GgufType.ARRAY.id()).u32(GgufType.UINT8.id()).u64(half).raw(new byte[half]);
        }
        String m = assertThrows(ModelFormatException.class,
                () -> GgufReader.readHeader(new BytesChannel(b.bytes()))).getMessage();
        assertTrue(m.contains("count of array 'a2': " + half + " (expected: <= 0; all arrays"), m);
    }

    @Test
    void countsBeyondTheFileFailBeforeLooping() {
        assertTimeoutCheck(() -> failure(GgufBytes.header(3, 0, Long.MAX_VALUE).bytes()), "metadata count");
        assertTimeoutCheck(() -> failure(GgufBytes.header(3, -1L, 0).bytes()), "tensor count");
    }

    private static void assertTimeoutCheck(java.util.function.Supplier<String> s, String expected) {
        String m = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), s::get);
        assertTrue(m.contains(expected), m);
    }

    @Test
    void unknownValueTypesAreNamed() {
        byte[] b = GgufBytes.header(3, 0, 1).str("k").u32(13).u64(0).bytes();
        assertTrue(failure(b).contains("type of 'k': 13 (expected: a GGUF value type 0..12)"));
        b = GgufBytes.header(3, 0, 1).str("k").u32(GgufType.ARRAY.id()).u32(99).u64(0).bytes();
        assertTrue(failure(b).contains("element type of array 'k': 99"));
    }

    @Test
    void corruptBoolsDuplicateKeysAndDeepNestingAreRejected() {
        byte[] b = GgufBytes.header(3, 0, 1).str("flag").u32(GgufType.BOOL.id()).u8(2).bytes();
        assertTrue(failure(b).contains("bool 'flag': 2 (expected: 0 or 1)"));
        GgufValue one = GgufValue.ofInteger(GgufType.UINT8, 1);
        b = GgufBytes.header(3, 0, 2).pair("dup", one).pair("dup", one).bytes();
        assertTrue(failure(b).contains("'dup' appears twice"));
        GgufBytes deep = GgufBytes.header(3, 0, 1).str("deep").u32(GgufType.ARRAY.id());
        for (int i = 0; i < 10_000; i++) {
            deep.u32(GgufType.ARRAY.id()).u64(1);
        }
        String m = failure(deep.bytes());
        assertTrue(m.contains("nests") && m.contains("<= " + GgufReader.MAX_ARRAY_DEPTH), m);
    }

    @Test
    void hostileTensorInfosAreRejected() {
        byte[] b = GgufBytes.header(3, 1, 0).str("t").u32(5).raw(new byte[64]).bytes();
        assertTrue(failure(b).contains("dimension count of tensor 't': 5"));
        b = GgufBytes.header(3, 1, 0).str("t").u32(2).u64(1L << 40).u64(1L << 40).u32(0).u64(0).bytes();
        assertTrue(failure(b).contains("overflows"));
    }
}
