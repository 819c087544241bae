package io.pagedkv.examples.serve;

/** How the server reserves K/V memory ({@code --kv}). */
public enum KvKind {
    /** pagedkv: blocks taken as sequences grow, prefix caching, preemption when blocks run out. */
    paged,
    /** The baseline: a region of the whole context reserved per request at admission. */
    contiguous
}
