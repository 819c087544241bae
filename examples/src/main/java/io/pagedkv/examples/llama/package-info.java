/**
 * A Llama-architecture decoder for llama2.c checkpoints (reader, tokenizer, forward pass, sampling)
 * that keeps its keys and values either in plain arrays or in the paged cache.
 */
package io.pagedkv.examples.llama;
