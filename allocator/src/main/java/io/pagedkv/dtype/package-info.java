/** KV storage types and the codecs that write and read them, byte for byte as llama.cpp. */
package io.pagedkv.dtype;
