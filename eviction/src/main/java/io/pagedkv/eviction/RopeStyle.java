package io.pagedkv.eviction;

/** Which dimensions of a head RoPE rotates together. */
public enum RopeStyle {
    /** Adjacent pairs (2i, 2i+1): the original RoPE, GPT-J, llama.c, GGUF "normal" mode. */
    INTERLEAVED,
    /** Halves (i, i + d/2): GPT-NeoX and Hugging Face Llama ("rotate_half"), GGUF "neox" mode. */
    HALF_SPLIT
}
