/**
 * KV storage types and the codecs that write and read them: F32, F16, BF16, FP8 (E4M3FN, E5M2,
 * optionally scaled as vLLM's FP8 cache) and llama.cpp's Q8_0 and Q4_0 byte for byte. Each dtype
 * has a scalar reference codec; {@code Vector*} classes hold the Vector API fast paths, loaded only
 * when {@code jdk.incubator.vector} is present (see {@link io.pagedkv.dtype.KvCodecs}).
 */
package io.pagedkv.dtype;
