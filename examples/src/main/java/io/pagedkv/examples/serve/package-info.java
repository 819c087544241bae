/**
 * {@code pagedkv serve}: an OpenAI-compatible completion server over the paged KV cache, with a
 * continuous-batching engine (chunked prefill, decode, prefix caching across requests, preemption
 * by recompute) whose cache-facing bookkeeping sits behind {@link io.pagedkv.examples.serve.KvBackend}.
 */
package io.pagedkv.examples.serve;
