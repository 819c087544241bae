package io.pagedkv.examples.serve;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.examples.llama.KvStore;

/**
 * A decoder's view of one engine-owned {@link Sequence}: keys and values are written into the
 * sequence's reserved slots and attended with {@link PagedAttention} over its block table. The
 * engine reserves room ({@code Sequence.tryAppendTokens}) on the scheduler thread before a step;
 * {@link #append()} here only advances the written mark inside that room, so attention never reads
 * a slot that was reserved but not yet written. Allocates nothing per token. Not thread-safe: one
 * thread at a time (the engine hands it to one worker per step).
 */
final class SequenceKvStore implements KvStore {

    private final Sequence sequence;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final int capacity;
    private int written;

    /** A view of {@code sequence} whose first {@code written} tokens are already written (a prefix-cache hit). */
    SequenceKvStore(PagedKvCache cache, Sequence sequence, int written, int capacity) {
        this.sequence = sequence;
        this.attention = PagedAttention.create(cache);
        this.table = BlockTableView.of(sequence);
        this.written = written;
        this.capacity = capacity;
    }

    /** The sequence this store writes into. */
    Sequence sequence() {
        return sequence;
    }

    @Override
    public int length() {
        return written;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void append() {
        int reserved = sequence.length();
        if (written >= reserved) {
            throw new IllegalStateException("written: " + written + " (expected: < reserved " + reserved
                    + "; the engine reserves a step's tokens before a worker runs it)");
        }
        written++;
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        if (position >= written) {
            throw new IndexOutOfBoundsException("position: " + position + " (expected: < written " + written + ")");
        }
        sequence.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        attention.decode(table, written, layer, q, 0, out, 0, null);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        attention.prefill(table, start, count, layer, q, 0, out, 0);
    }

    @Override
    public String statistics() {
        return "sequence " + sequence.id() + ": " + written + " tokens written of " + sequence.length() + " reserved in "
                + sequence.blockCount() + " blocks";
    }

    /** Nothing to do: the backend releases the sequence. */
    @Override
    public void close() {
        // the KvBackend owns the sequence
    }
}
