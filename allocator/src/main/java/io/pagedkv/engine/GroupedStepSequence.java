package io.pagedkv.engine;

import io.pagedkv.cache.GroupedSequence;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One admitted request under a {@link GroupedStepPlanner}: a {@link GroupedSequence} (one block
 * table per layer group over the shared pool) that only its planner changes, plus the planner's
 * bookkeeping: per group a mirror of its block table indexed by <em>model</em> block (a sliding
 * group's released leading blocks are {@link StepPlan#PAD}, as vLLM's null blocks), its row in the
 * step, and per group the writable blocks its new tokens go to.
 *
 * <p>The underlying sequence is not handed out: a structural change behind the planner's back (a
 * fork, a prefix commit or a window release while workers write) is what the planner rules out.
 *
 * <h2>Threading</h2>
 * As {@link StepSequence}: queries and reads from any thread; every change through the planner, on
 * its owner thread.
 */
public final class GroupedStepSequence {

    final GroupedStepPlanner planner;
    final GroupedSequence sequence;
    private final long id;
    private final int cachedTokens;
    StepSequence.State state = StepSequence.State.RUNNING;

    /** Per group, its table by model block index: PAD below the group's first held block. */
    int[][] blocks;
    /** Per group, leading mirror entries already set to PAD. */
    final int[] padded;
    /** Leading full blocks already offered to the prefix cache. */
    int offeredBlocks;

    /** Row in the step being built or in flight; -1 when not scheduled. */
    int row = -1;
    /** Length before the step: its first new token's position. */
    int stepStart;
    /** New tokens of the step. */
    int stepCount;
    /** Per group, the writable blocks from model block {@code stepStart / blockSize} on. */
    MemorySegment[][] stepBlocks;

    GroupedStepSequence(GroupedStepPlanner planner, long id, GroupedSequence sequence, int cachedTokens, int blockSize) {
        this.planner = planner;
        this.id = id;
        this.sequence = sequence;
        this.cachedTokens = cachedTokens;
        int groups = sequence.groups().groupCount();
        this.blocks = new int[groups][];
        this.padded = new int[groups];
        this.stepBlocks = new MemorySegment[groups][];
        for (int g = 0; g < groups; g++) {
            blocks[g] = new int[8];
            stepBlocks[g] = new MemorySegment[2];
        }
        this.offeredBlocks = cachedTokens / blockSize;
        refreshMirrors(blockSize);
    }

    /** Copies every group's table into its mirror, PAD below the group's first held block. */
    void refreshMirrors(int blockSize) {
        for (int g = 0; g < blocks.length; g++) {
            int lead = sequence.firstPosition(g) / blockSize;
            int n = lead + sequence.blockCount(g);
            if (blocks[g].length < n) {
                blocks[g] = Arrays.copyOf(blocks[g], Math.max(n, blocks[g].length * 2));
            }
            Arrays.fill(blocks[g], 0, lead, StepPlan.PAD);
            padded[g] = lead;
            for (int i = lead; i < n; i++) {
                blocks[g][i] = sequence.blockId(g, i - lead);
            }
        }
    }

    /** Grows group {@code g}'s mirror to hold {@code n} entries. */
    void ensureBlocks(int g, int n) {
        if (blocks[g].length < n) {
            blocks[g] = Arrays.copyOf(blocks[g], Math.max(n, blocks[g].length * 2));
        }
    }

    /** Makes room for {@code n} writable blocks per group. */
    void ensureStepBlocks(int n) {
        for (int g = 0; g < stepBlocks.length; g++) {
            if (stepBlocks[g].length < n) {
                stepBlocks[g] = new MemorySegment[Math.max(n, stepBlocks[g].length * 2)];
            }
        }
    }

    /** An id unique within its planner (admissions and forks in order, from 1). */
    public long id() {
        return id;
    }

    /** Where this sequence is in its life. */
    public StepSequence.State state() {
        return state;
    }

    /** Whether it holds blocks (admitted and neither preempted nor released). */
    public boolean isRunning() {
        return state == StepSequence.State.RUNNING;
    }

    /** Leading tokens reused from the prefix cache at admission (every group had them). */
    public int cachedTokens() {
        return cachedTokens;
    }

    /** Tokens reserved so far, in model positions (0 once preempted or released). */
    public int length() {
        return sequence.length();
    }

    /** Leading model positions of model {@code layer} written (readable). */
    public int written(int layer) {
        return sequence.written(layer);
    }

    /** Leading model positions written in every layer of every group. */
    public int writtenTokens() {
        int min = Integer.MAX_VALUE;
        for (int g = 0; g < blocks.length; g++) {
            min = Math.min(min, sequence.writtenTokens(g));
        }
        return min;
    }

    /** The first model position group {@code group} still holds (0 for a global group). */
    public int firstPosition(int group) {
        return sequence.firstPosition(group);
    }

    /** Blocks group {@code group} holds now (a sliding group's stay within its window bound). */
    public int blockCount(int group) {
        return sequence.blockCount(group);
    }

    /** Block id at index {@code index} of group {@code group}'s held blocks. */
    public int blockId(int group, int index) {
        return sequence.blockId(group, index);
    }

    /** Its row in the step being built or in flight, or -1. */
    public int row() {
        return row;
    }

    /** Decodes the key of one KV head at model {@code position} in model {@code layer}; see {@link GroupedSequence#readKey}. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        sequence.readKey(layer, head, position, dst, off);
    }

    /** Decodes the value of one KV head at model {@code position} in model {@code layer}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        sequence.readValue(layer, head, position, dst, off);
    }

    @Override
    public String toString() {
        return "GroupedStepSequence[id=" + id + ", " + state + ", length=" + (state == StepSequence.State.RUNNING ? length() : 0)
                + ", cached=" + cachedTokens + (row >= 0 ? ", row=" + row : "") + "]";
    }
}
