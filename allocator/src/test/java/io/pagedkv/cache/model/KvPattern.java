package io.pagedkv.cache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.cache.Sequence;
import io.pagedkv.model.ModelShape;

/**
 * Test K/V content: a distinct value for every (salt, layer, K|V, head, position, element), exactly
 * representable in F32 for the sizes the tests use, so readback can be checked bit for bit.
 */
public final class KvPattern {

    private KvPattern() {
    }

    /** The value written for one element. */
    public static float value(int salt, int layer, int kv, int head, int position, int i) {
        return salt * 100_000f + layer * 10_000 + kv * 5_000 + head * 1_000 + position * 10 + i * 0.125f;
    }

    /** All KV heads of one token, head-major ({@code kvHeads * headDim} floats). */
    public static float[] token(ModelShape shape, int salt, int layer, int kv, int position) {
        float[] v = new float[shape.kvHeads() * shape.headDim()];
        for (int h = 0; h < shape.kvHeads(); h++) {
            for (int i = 0; i < shape.headDim(); i++) {
                v[h * shape.headDim() + i] = value(salt, layer, kv, h, position, i);
            }
        }
        return v;
    }

    /** Writes K and V of every layer of the token at {@code position}. */
    public static void writeToken(Sequence s, int salt, int position) {
        ModelShape shape = s.cache().layout().shape();
        for (int l = 0; l < shape.layers(); l++) {
            s.write(l, position, token(shape, salt, l, 0, position), token(shape, salt, l, 1, position));
        }
    }

    /** Asserts that every layer and head of the token at {@code position} reads back exactly. */
    public static void assertToken(Sequence s, int salt, int position) {
        ModelShape shape = s.cache().layout().shape();
        float[] got = new float[shape.headDim()];
        for (int l = 0; l < shape.layers(); l++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                s.readKey(l, h, position, got, 0);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(value(salt, l, 0, h, position, i), got[i],
                            "key of seq " + s.id() + " l" + l + " h" + h + " p" + position);
                }
                s.readValue(l, h, position, got, 0);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(value(salt, l, 1, h, position, i), got[i],
                            "value of seq " + s.id() + " l" + l + " h" + h + " p" + position);
                }
            }
        }
    }
}
