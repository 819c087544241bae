package io.pagedkv.examples.tier;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.examples.llama.KvStore;

/**
 * A decoder's store over one {@link Sequence} opened for a prompt, so that it starts with the prompt's
 * cached (or restored) prefix, {@link Sequence#reusedTokens()} tokens already written: the decoder
 * prefills the rest and decodes. Prompt positions are appended with their ids (so their full blocks
 * can be committed to the prefix cache); generated ones without.
 */
final class PrefixKvStore implements KvStore {

    private final PagedKvCache cache;
    private final Sequence sequence;
    private final int[] prompt;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final int capacity;

    PrefixKvStore(PagedKvCache cache, int[] prompt, int capacity) {
        this.cache = cache;
        this.prompt = prompt;
        this.sequence = cache.openSequence(prompt);
        this.attention = PagedAttention.create(cache);
        this.table = BlockTableView.of(sequence);
        this.capacity = capacity;
    }

    Sequence sequence() {
        return sequence;
    }

    @Override
    public int length() {
        return sequence.length();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void append() {
        int at = sequence.length();
        if (at < prompt.length) {
            sequence.appendTokens(prompt, at, 1);
        } else {
            sequence.append(1);
        }
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        sequence.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        attention.decode(table, sequence.length(), layer, q, 0, out, 0, null);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        attention.prefill(table, start, count, layer, q, 0, out, 0);
    }

    @Override
    public String statistics() {
        return cache.stats().toString();
    }

    @Override
    public void close() {
        sequence.close();
    }
}
