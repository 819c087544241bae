package io.pagedkv.model;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes GGUF bytes for tests, field by field, little-endian; raw writers allow corrupt files too. */
final class GgufBytes {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** A header: magic, version, tensor count, metadata count. */
    static GgufBytes header(int version, long tensors, long pairs) {
        return new GgufBytes().raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensors).u64(pairs);
    }

    GgufBytes raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u16(int v) {
        return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array());
    }

    GgufBytes u32(long v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    GgufBytes u64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    /** A key and a value of any type, written as the format says. */
    GgufBytes pair(String key, GgufValue v) {
        str(key).u32(v.type().id());
        return value(v);
    }

    GgufBytes value(GgufValue v) {
        switch (v.type()) {
            case UINT8, INT8 -> u8((int) (long) (Long) v.value());
            case UINT16, INT16 -> u16((int) (long) (Long) v.value());
            case UINT32, INT32 -> u32((Long) v.value());
            case UINT64, INT64 -> u64((Long) v.value());
            case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v.value()));
            case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v.value()));
            case BOOL -> u8((Boolean) v.value() ? 1 : 0);
            case STRING -> str((String) v.value());
            case ARRAY -> {
                GgufArray a = v.asArray();
                u32(a.elementType().id()).u64(a.size());
                for (GgufValue e : a.elements()) {
                    value(e);
                }
            }
        }
        return this;
    }

    /** A tensor info: name, dims, ggml type 0 (f32), offset. */
    GgufBytes tensor(String name, List<Long> dims, long offset) {
        str(name).u32(dims.size());
        for (long d : dims) {
            u64(d);
        }
        return u32(0).u64(offset);
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
