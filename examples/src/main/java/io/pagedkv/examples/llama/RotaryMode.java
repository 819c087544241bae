package io.pagedkv.examples.llama;

/** Which position a cached key is rotated at once tokens have been evicted. */
public enum RotaryMode {
    /** Keys keep the rotation of their original position in the stream (nothing to redo). */
    ORIGINAL,
    /**
     * StreamingLLM: positions are places in the cache, 0 .. n-1 over the kept tokens in stream
     * order; after each eviction batch every kept key is re-rotated, in fp32, from the key as
     * written to its new place, and a new token is rotated at its place.
     */
    CACHE
}
