package io.pagedkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Properties of the GGUF header reader: round trips, and hostile bytes only ever fail cleanly. */
class GgufReaderProperties {

    private static final Gen<String> STRINGS = Gens.lists(Gens.ints(0x20, 0xD7FF), 0, 12).map(cps -> {
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) {
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    });

    private static Gen<GgufValue> scalar(GgufType t) {
        return switch (t) {
            case UINT8 -> Gens.longs(0, 255).map(v -> GgufValue.ofInteger(t, v));
            case INT8 -> Gens.longs(-128, 127).map(v -> GgufValue.ofInteger(t, v));
            case UINT16 -> Gens.longs(0, 65_535).map(v -> GgufValue.ofInteger(t, v));
            case INT16 -> Gens.longs(-32_768, 32_767).map(v -> GgufValue.ofInteger(t, v));
            case UINT32 -> Gens.longs(0, 0xFFFF_FFFFL).map(v -> GgufValue.ofInteger(t, v));
            case INT32 -> Gens.longs(Integer.MIN_VALUE, Integer.MAX_VALUE).map(v -> GgufValue.ofInteger(t, v));
            case UINT64, INT64 -> Gens.longs(-(1L << 62), 1L << 62).map(v -> GgufValue.ofInteger(t, v));
            case FLOAT32 -> Gens.floats().map(f -> new GgufValue(t, f));
            case FLOAT64 -> Gens.floats().map(f -> new GgufValue(t, (double) f * 1.000001));
            case BOOL -> Gens.booleans().map(b -> new GgufValue(t, b));
            case STRING -> STRINGS.map(GgufValue::ofString);
            case ARRAY -> throw new IllegalArgumentException("ARRAY is not a scalar");
        };
    }

    private static final List<GgufType> SCALARS = List.of(GgufType.UINT8, GgufType.INT8, GgufType.UINT16,
            GgufType.INT16, GgufType.UINT32, GgufType.INT32, GgufType.FLOAT32, GgufType.BOOL, GgufType.STRING,
            GgufType.UINT64, GgufType.INT64, GgufType.FLOAT64);

    private static Gen<GgufValue> value(int depth) {
        Gen<GgufType> types = depth == 0 ? Gens.elements(SCALARS)
                : Gens.elements(SCALARS).flatMap(t -> Gens.booleans().map(arr -> arr ? GgufType.ARRAY : t));
        return types.flatMap(t -> t != GgufType.ARRAY ? scalar(t) : arrayOf(depth));
    }

    private static Gen<GgufValue> arrayOf(int depth) {
        return Gens.elements(SCALARS).flatMap(t -> Gens.booleans().flatMap(nested -> nested && depth > 1
                ? Gens.lists(arrayOf(depth - 1), 0, 3).map(es -> GgufValue.ofArray(GgufType.ARRAY, es))
                : Gens.lists(scalar(t), 0, 6).map(es -> GgufValue.ofArray(t, es))));
    }

    private static final Gen<Map<String, GgufValue>> METADATA = Gens.lists(value(2), 0, 12).map(vs -> {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        for (int i = 0; i < vs.size(); i++) {
            m.put("key." + i, vs.get(i));
        }
        return m;
    });

    private static final List<String> SHAPE_KEYS = List.of("llama.block_count", "llama.attention.head_count",
            "llama.attention.head_count_kv", "llama.embedding_length", "llama.attention.key_length",
            "llama.attention.sliding_window", "general.parameter_count");

    /** A valid llama shape, then up to three keys overridden with values of random types and sizes. */
    private static final Gen<Map<String, GgufValue>> SHAPE_METADATA = Gens.zip(Gens.ints(1, 64), Gens.ints(1, 8),
            Gens.ints(1, 4), (layers, kv, group) -> {
                Map<String, GgufValue> m = new LinkedHashMap<>();
                m.put("general.architecture", GgufValue.ofString("llama"));
                m.put("llama.block_count", GgufValue.ofInteger(GgufType.UINT32, layers));
                m.put("llama.attention.head_count", GgufValue.ofInteger(GgufType.UINT32, (long) kv * group));
                m.put("llama.attention.head_count_kv", GgufValue.ofInteger(GgufType.UINT32, kv));
                m.put("llama.embedding_length", GgufValue.ofInteger(GgufType.UINT32, 64L * kv * group));
                return m;
            }).flatMap(base -> Gens.booleans().flatMap(declare -> !declare ? Gens.constant(base)
                    : Gens.longs(-(1L << 62), 1L << 62).map(raw -> {
                        // a uint64 count with the top bit set must be refused, not read as negative
                        Map<String, GgufValue> m = new LinkedHashMap<>(base);
                        m.put("general.parameter_count", GgufValue.ofInteger(GgufType.UINT64, raw));
                        return m;
                    }))).flatMap(base -> Gens.lists(Gens.zip(Gens.elements(SHAPE_KEYS), Gens.booleans().flatMap(small -> small
                    ? Gens.longs(0, 64).map(v -> GgufValue.ofInteger(GgufType.UINT32, v)) : value(2)),
                    (k, v) -> Map.entry(k, v)), 0, 3).map(overrides -> {
                        Map<String, GgufValue> m = new LinkedHashMap<>(base);
                        overrides.forEach(e -> m.put(e.getKey(), e.getValue()));
                        return m;
                    }));

    @Test
    void anyMetadataGivesAValidShapeOrAModelFormatException() {
        Property.forAll(SHAPE_METADATA).check(m -> {
            GgufHeader h = GgufReader.readHeader(new BytesChannel(file(3, m, 1)));
            try {
                ModelShape s = GgufShapes.toShape(h, "fuzz");
                GgufValue layers = m.get("llama.block_count");
                if (layers.type().isInteger()) {
                    assertEquals(layers.asLong(), s.layers());
                }
            } catch (ModelFormatException expected) {
                // missing or unusable keys are named in a checked exception
            }
        });
    }

    private static byte[] file(int version, Map<String, GgufValue> metadata, int tensors) {
        GgufBytes b = GgufBytes.header(version, tensors, metadata.size());
        metadata.forEach(b::pair);
        for (int t = 0; t < tensors; t++) {
            b.tensor("t" + t, List.of(4L, 3L), 0);
        }
        return b.bytes();
    }

    @Test
    void metadataWrittenIsMetadataReadForEveryTypeAndVersion() {
        Property.forAll(METADATA, Gens.oneOf(2, 3), Gens.ints(0, 3)).check((m, version, tensors) -> {
            byte[] bytes = file(version, m, tensors);
            GgufHeader h = GgufReader.readHeader(new BytesChannel(bytes));
            assertEquals(m, h.metadata());
            assertEquals(version, h.version());
            assertEquals(12L * tensors, h.tensorElements());
            assertEquals(bytes.length, h.headerBytes());
        });
    }

    @Test
    void corruptedOrTruncatedBytesEitherParseOrFailWithAModelFormatException() {
        Gen<int[]> edits = Gens.lists(Gens.zip(Gens.ints(0, 1 << 16), Gens.ints(0, 255),
                (at, b) -> new int[] {at, b}), 1, 6).map(l -> l.stream().flatMapToInt(java.util.Arrays::stream).toArray());
        Property.forAll(METADATA, edits, Gens.ints(0, 1 << 16)).check((m, edit, cut) -> {
            byte[] bytes = file(3, m, 2);
            for (int i = 0; i + 1 < edit.length; i += 2) {
                bytes[edit[i] % bytes.length] = (byte) edit[i + 1];
            }
            byte[] cutBytes = java.util.Arrays.copyOf(bytes, Math.min(bytes.length, cut));
            for (byte[] b : new byte[][] {bytes, cutBytes}) {
                try {
                    GgufReader.readHeader(new BytesChannel(b));
                } catch (ModelFormatException expected) {
                    // a clear, checked failure is the only acceptable failure
                } catch (IOException e) {
                    throw new AssertionError("unexpected I/O failure", e);
                }
            }
        });
    }
}
