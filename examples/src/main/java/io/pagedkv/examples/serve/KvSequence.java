package io.pagedkv.examples.serve;

import io.pagedkv.examples.llama.KvStore;

/**
 * One admitted request's K/V as its {@link KvBackend} handed it out: how many leading tokens came
 * from the prefix cache, and the {@link KvStore} a decoder writes and attends through. The store's
 * {@link KvStore#append()} only moves the written mark inside the room {@link KvBackend#reserve}
 * reserved, so a worker never allocates. Owned by the engine; used by one thread at a time.
 */
public interface KvSequence {

    /** Leading tokens served from the prefix cache at admission (not recomputed). */
    int cachedTokens();

    /** Where the decoder keeps this sequence's keys and values. */
    KvStore store();
}
