package io.pagedkv.engine;

import io.pagedkv.cache.Sequence;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One admitted request under a {@link StepPlanner}: a cache {@link Sequence} that only its planner
 * changes (append, fork, commit, close), plus the planner's bookkeeping for it: a mirror of its
 * block table (so a step's padded block tables are built with array copies), its row in the step in
 * flight, and the writable blocks its new tokens go to.
 *
 * <p>The underlying sequence is not handed out: a structural change behind the planner's back (a
 * fork or a prefix commit while workers write) is exactly what the planner exists to rule out.
 *
 * <h2>Threading</h2>
 * The queries ({@link #length()}, {@link #written(int)}, {@link #row()}, reads) are safe from any
 * thread; {@link #row()} and the step fields are written by the planner's owner thread before it
 * hands a plan out, and read by workers after. Everything that changes the sequence goes through the
 * planner, on its owner thread.
 */
public final class StepSequence {

    /** Where a sequence is in its life. */
    public enum State {
        /** Admitted: holds blocks and may be scheduled. */
        RUNNING,
        /** Preempted by recompute: its blocks are released, its written full blocks stay in the prefix cache. */
        PREEMPTED,
        /** Released (finished or cancelled). */
        CLOSED
    }

    final StepPlanner planner;
    final Sequence sequence;
    private final int cachedTokens;
    State state = State.RUNNING;

    /** Mirror of the sequence's block table, entries {@code [0, sequence.blockCount())}. */
    int[] blocks;
    /** Leading full blocks already offered to the prefix cache. */
    int offeredBlocks;

    // the step this sequence is scheduled in (owner thread writes before the plan is handed out)
    /** Row in the step being built or in flight; -1 when not scheduled. */
    int row = -1;
    /** Length before the step: its first new token's position. */
    int stepStart;
    /** New tokens of the step. */
    int stepCount;
    /** Table index of the first block that receives a new token. */
    int firstNewBlock;
    /** Writable blocks {@code firstNewBlock ..} (copy-on-write resolved), one per block the step writes. */
    MemorySegment[] stepBlocks = new MemorySegment[2];

    StepSequence(StepPlanner planner, Sequence sequence, int cachedTokens, int[] blocks) {
        this.planner = planner;
        this.sequence = sequence;
        this.cachedTokens = cachedTokens;
        this.blocks = blocks;
        this.offeredBlocks = cachedTokens / sequence.cache().layout().blockSize();
    }

    /** Copies the sequence's block table into the mirror (at admission and fork). */
    static int[] mirrorOf(Sequence s) {
        int[] t = new int[Math.max(4, s.blockCount())];
        s.copyBlockTable(t);
        return t;
    }

    /** Grows the mirror to hold {@code n} entries. */
    void ensureBlocks(int n) {
        if (blocks.length < n) {
            blocks = Arrays.copyOf(blocks, Math.max(n, blocks.length * 2));
        }
    }

    /** A process-unique id (the cache sequence's). */
    public long id() {
        return sequence.id();
    }

    /** Where this sequence is in its life. */
    public State state() {
        return state;
    }

    /** Whether it holds blocks (admitted and neither preempted nor released). */
    public boolean isRunning() {
        return state == State.RUNNING;
    }

    /** Leading tokens reused from the prefix cache at admission (the engine computes only the rest). */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Tokens reserved so far (0 once preempted or released). */
    public int length() {
        return sequence.length();
    }

    /** Leading tokens of {@code layer} written (readable). */
    public int written(int layer) {
        return sequence.written(layer);
    }

    /** Leading tokens written in every layer: what a commit may offer to the prefix cache. */
    public int writtenTokens() {
        return sequence.writtenTokens();
    }

    /** Blocks in the block table. */
    public int blockCount() {
        return sequence.blockCount();
    }

    /**
     * The block id at table index {@code index}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #blockCount()}
     */
    public int blockId(int index) {
        return sequence.blockId(index);
    }

    /** Its row in the step being built or in flight, or -1 when it is not scheduled. */
    public int row() {
        return row;
    }

    /**
     * The plan of the step in flight in which this sequence has a row ({@link #row()}), or {@code null}
     * when it has none: what a worker holding only the sequence writes and attends through.
     */
    public StepPlan plan() {
        StepPlan p = planner.currentPlan();
        return row >= 0 && p.isOpen() ? p : null;
    }

    /**
     * Decodes the key of KV head {@code head} of the token at {@code position} in {@code layer} into
     * {@code dst[off .. off + headDim)}; a position not yet written in that layer throws.
     *
     * @throws IllegalStateException if the position is not written, or the sequence is not running
     */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        sequence.readKey(layer, head, position, dst, off);
    }

    /** Decodes the value of one KV head of one token; see {@link #readKey}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        sequence.readValue(layer, head, position, dst, off);
    }

    @Override
    public String toString() {
        return "StepSequence[id=" + id() + ", " + state + ", length=" + length() + ", written=" + writtenTokens()
                + ", cached=" + cachedTokens + (row >= 0 ? ", row=" + row : "") + "]";
    }
}
