package io.pagedkv.examples.serve;

import io.pagedkv.attention.PagedAttention;
import io.pagedkv.engine.KvWriter;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.examples.llama.KvStore;

/**
 * A decoder's view of one {@link StepSequence} during the engine's steps: K/V go in through the step
 * plan's slot mapping with a {@link KvWriter} (a whole prefill chunk per layer in one call,
 * {@link #writeChunk}), attention walks the plan's block table of the sequence's row, over the tokens
 * the row's written mark makes readable in that layer. {@link #append()} only moves this view's
 * length inside the room the planner reserved for the step, so a worker never allocates.
 *
 * <p>Not thread-safe: the engine hands it to one worker per step (its own writer included).
 */
final class PlannedKvStore implements KvStore {

    private final StepSequence sequence;
    private final KvWriter writer;
    private final PagedAttention attention;
    private final int capacity;
    private int length;

    /** A view of {@code sequence}, whose first {@code sequence.length()} tokens are written. */
    PlannedKvStore(StepSequence sequence, KvWriter writer, PagedAttention attention, int capacity) {
        this.sequence = sequence;
        this.writer = writer;
        this.attention = attention;
        this.capacity = capacity;
        this.length = sequence.length();
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void append() {
        StepPlan plan = plan();
        int room = plan.seqLen(sequence.row());
        if (length >= room) {
            throw new IllegalStateException("length: " + length + " (expected: < " + room
                    + ", the room the planner reserved for this step)");
        }
        length++;
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        StepPlan plan = plan();
        int row = sequence.row();
        writer.write(plan, row, layer, position - plan.contextLength(row), 1, keys, 0, values, 0);
    }

    @Override
    public boolean bulkWrites() {
        return true;
    }

    @Override
    public void writeChunk(int layer, int start, int count, float[] keys, float[] values) {
        StepPlan plan = plan();
        int row = sequence.row();
        writer.write(plan, row, layer, start - plan.contextLength(row), count, keys, 0, values, 0);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        StepPlan plan = plan();
        int row = sequence.row();
        checkReadable(plan, row, layer, length);
        attention.decode(plan.blockTable(row), length, layer, q, 0, out, 0, null);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        StepPlan plan = plan();
        int row = sequence.row();
        checkReadable(plan, row, layer, start + count);
        attention.prefill(plan.blockTable(row), start, count, layer, q, 0, out, 0);
    }

    /** A kernel is never pointed at a slot that is reserved but not written. */
    private static void checkReadable(StepPlan plan, int row, int layer, int tokens) {
        int readable = plan.readableTokens(row, layer);
        if (tokens > readable) {
            throw new IllegalStateException("tokens: " + tokens + " of layer " + layer + " (expected: <= "
                    + readable + " written; write a token's K/V before attending over it)");
        }
    }

    /** The plan of the step in flight in which the sequence has a row. */
    private StepPlan plan() {
        StepPlan plan = sequence.plan();
        if (plan == null) {
            throw new IllegalStateException(sequence + ": not in the step in flight (expected: scheduled and planned)");
        }
        return plan;
    }

    @Override
    public String statistics() {
        return sequence + ": " + length + " tokens in " + sequence.blockCount() + " blocks";
    }

    /** Nothing to do: the backend releases the sequence. */
    @Override
    public void close() {
        // the KvBackend owns the sequence
    }
}
