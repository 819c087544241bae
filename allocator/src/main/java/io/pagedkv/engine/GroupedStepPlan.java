package io.pagedkv.engine;

import io.pagedkv.cache.LayerGroups;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The answer of {@link GroupedStepPlanner#plan()}: a {@link StepPlan} per layer group. The rows,
 * their new tokens and lengths are shared ({@link #queryStartLoc()}, {@link #seqLens()},
 * {@link #contextLens()}); each group {@code g} has its own {@link #slotMapping(int)} (where each new
 * token goes in that group's layers), padded block-table matrix {@link #blockTables(int)} and
 * {@link #copyPairs(int)}, as vLLM's hybrid KV cache manager hands one block table per KV cache
 * group to the model runner.
 *
 * <h2>Block tables by model block</h2>
 * Every group's matrix has {@link #blockTableWidth()} columns and column {@code i} of row {@code r}
 * is the block that holds the row's model positions {@code [i * blockSize, (i + 1) * blockSize)}, so
 * a kernel finds position {@code p} at {@code table[p / blockSize]} in every group. A sliding group's
 * leading blocks outside the window are {@link StepPlan#PAD} (vLLM's null block): its kernels read
 * only from {@link #firstPosition(int, int)} on, which the window guarantees they never need below.
 *
 * <h2>Writing and reading</h2>
 * Workers write model layer {@code l}'s K/V of row {@code r} through group
 * {@code groups().groupOf(l)}'s slot mapping (or {@link #writableBlock(int, int, int)}) and then
 * {@link #markWritten(int, int, int)}; kernels read up to {@link #readableTokens(int, int)}, the
 * row's written mark in that layer, so nothing reserved but unwritten is ever read.
 *
 * <h2>Lifetime and threading</h2>
 * As {@link StepPlan}: one plan object per planner, reused every step, valid from
 * {@link GroupedStepPlanner#plan()} to {@link GroupedStepPlanner#complete(GroupedStepPlan)}; any
 * number of threads read it and write distinct (row, layer) pairs. The arrays are the plan's own and
 * longer than their valid prefix; the segments are read-only native int32 copies. Nothing is
 * allocated per step once the arrays have grown to the largest batch.
 */
public final class GroupedStepPlan {

    private final GroupedStepPlanner planner;
    private final LayerGroups groups;
    private final int groupCount;
    private final int layers;
    private final int blockSize;

    private volatile boolean open;
    private long step;

    private int rows;
    private int tokens;
    private int width;
    private GroupedStepSequence[] sequences = new GroupedStepSequence[8];
    private int[] queryStartLoc = new int[9];
    private int[] seqLens = new int[8];
    private int[] contextLens = new int[8];
    /** Per (row, model layer): new tokens of the row written in that layer this step. */
    private int[] progress = new int[8];
    private final int[][] slotMapping;
    private final int[][] blockTables;
    private final int[][] copyPairs;
    private final int[] copies;
    /** Per group, per row: the first model position the group holds. */
    private final int[][] firstPositions;

    private final NativeInts[] slotMappingNative;
    private final NativeInts[] blockTablesNative;
    private final NativeInts queryStartLocNative = new NativeInts();
    private final NativeInts seqLensNative = new NativeInts();
    private final NativeInts contextLensNative = new NativeInts();

    GroupedStepPlan(GroupedStepPlanner planner, LayerGroups groups, int blockSize) {
        this.planner = planner;
        this.groups = groups;
        this.groupCount = groups.groupCount();
        this.layers = groups.modelLayers();
        this.blockSize = blockSize;
        this.slotMapping = new int[groupCount][16];
        this.blockTables = new int[groupCount][64];
        this.copyPairs = new int[groupCount][8];
        this.copies = new int[groupCount];
        this.firstPositions = new int[groupCount][8];
        this.slotMappingNative = new NativeInts[groupCount];
        this.blockTablesNative = new NativeInts[groupCount];
        for (int g = 0; g < groupCount; g++) {
            slotMappingNative[g] = new NativeInts();
            blockTablesNative[g] = new NativeInts();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // building (owner thread)

    void build(GroupedStepSequence[] scheduled, int n, int[][] pairs, int[] pairCount) {
        int total = 0;
        int w = 0;
        for (int r = 0; r < n; r++) {
            GroupedStepSequence s = scheduled[r];
            total += s.stepCount;
            w = Math.max(w, (s.stepStart + s.stepCount + blockSize - 1) / blockSize);
        }
        rows = n;
        tokens = total;
        width = w;
        if (sequences.length < n) {
            sequences = Arrays.copyOf(sequences, Math.max(n, sequences.length * 2));
            seqLens = Arrays.copyOf(seqLens, sequences.length);
            contextLens = Arrays.copyOf(contextLens, sequences.length);
            queryStartLoc = Arrays.copyOf(queryStartLoc, sequences.length + 1);
        }
        if (progress.length < n * layers) {
            progress = new int[Math.max(n * layers, progress.length * 2)];
        }
        for (int g = 0; g < groupCount; g++) {
            if (slotMapping[g].length < total) {
                slotMapping[g] = new int[Math.max(total, slotMapping[g].length * 2)];
            }
            if (blockTables[g].length < n * w) {
                blockTables[g] = new int[Math.max(n * w, blockTables[g].length * 2)];
            }
            if (copyPairs[g].length < pairCount[g] * 2) {
                copyPairs[g] = new int[Math.max(pairCount[g] * 2, copyPairs[g].length * 2)];
            }
            if (firstPositions[g].length < n) {
                firstPositions[g] = new int[Math.max(n, firstPositions[g].length * 2)];
            }
        }
        int q = 0;
        for (int r = 0; r < n; r++) {
            GroupedStepSequence s = scheduled[r];
            sequences[r] = s;
            queryStartLoc[r] = q;
            contextLens[r] = s.stepStart;
            int end = s.stepStart + s.stepCount;
            seqLens[r] = end;
            int bc = (end + blockSize - 1) / blockSize;
            for (int g = 0; g < groupCount; g++) {
                int[] table = blockTables[g];
                System.arraycopy(s.blocks[g], 0, table, r * w, bc);
                Arrays.fill(table, r * w + bc, (r + 1) * w, StepPlan.PAD);
                firstPositions[g][r] = s.sequence.firstPosition(g);
                int[] slots = slotMapping[g];
                int[] mirror = s.blocks[g];
                for (int i = 0; i < s.stepCount; i++) {
                    int pos = s.stepStart + i;
                    slots[q + i] = mirror[pos / blockSize] * blockSize + pos % blockSize;
                }
            }
            q += s.stepCount;
        }
        queryStartLoc[n] = q;
        Arrays.fill(progress, 0, n * layers, 0);
        for (int g = 0; g < groupCount; g++) {
            System.arraycopy(pairs[g], 0, copyPairs[g], 0, pairCount[g] * 2);
            copies[g] = pairCount[g];
            slotMappingNative[g].publish(slotMapping[g], total);
            blockTablesNative[g].publish(blockTables[g], n * w);
        }
        queryStartLocNative.publish(queryStartLoc, n + 1);
        seqLensNative.publish(seqLens, n);
        contextLensNative.publish(contextLens, n);
    }

    void open(long stepNumber) {
        this.step = stepNumber;
        this.open = true; // volatile: publishes everything above to workers that see the plan open
    }

    void close() {
        open = false;
        for (int r = 0; r < rows; r++) {
            sequences[r] = null;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // checks

    private void checkRow(int row) {
        if (!open) {
            throw new IllegalStateException("plan of step " + step + ": not in flight (expected: between"
                    + " GroupedStepPlanner.plan() and complete())");
        }
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row: " + row + " (expected: 0 <= row < rows " + rows + ")");
        }
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
    }

    private int checkGroup(int group) {
        if (group < 0 || group >= groupCount) {
            throw new IndexOutOfBoundsException("group: " + group + " (expected: 0 <= group < " + groupCount + ")");
        }
        return group;
    }

    private void checkCount(int row, int count) {
        int n = queryStartLoc[row + 1] - queryStartLoc[row];
        if (count < 0 || count > n) {
            throw new IllegalArgumentException("count: " + count + " (expected: 0 <= count <= the row's " + n
                    + " new tokens)");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the plan, kernel-ready

    /** The step number (1 for the planner's first plan). */
    public long step() {
        return step;
    }

    /** Whether the plan is in flight (writes allowed). */
    public boolean isOpen() {
        return open;
    }

    /** The layer groups: model layer {@code l}'s arrays are group {@code groups().groupOf(l)}'s. */
    public LayerGroups groups() {
        return groups;
    }

    /** Rows (sequences) of the batch. */
    public int rows() {
        return rows;
    }

    /** New tokens of the step, over all rows. */
    public int tokens() {
        return tokens;
    }

    /** Columns of every group's block-table matrix: the most model blocks any row spans after the step. */
    public int blockTableWidth() {
        return width;
    }

    /** Group {@code group}'s flat slot per new token, {@code blockId * blockSize + offset}; entries {@code [0, tokens())}. */
    public int[] slotMapping(int group) {
        return slotMapping[checkGroup(group)];
    }

    /** {@link #slotMapping(int)} as native int32 values. */
    public MemorySegment slotMappingSegment(int group) {
        return slotMappingNative[checkGroup(group)].view();
    }

    /**
     * Group {@code group}'s block tables, row-major {@code rows() x blockTableWidth()}, indexed by
     * model block; {@link StepPlan#PAD} below the group's first held block and past the row's last.
     */
    public int[] blockTables(int group) {
        return blockTables[checkGroup(group)];
    }

    /** {@link #blockTables(int)} as native int32 values. */
    public MemorySegment blockTablesSegment(int group) {
        return blockTablesNative[checkGroup(group)].view();
    }

    /** {@code rows() + 1} offsets: row {@code r}'s new tokens are flat indices {@code [q[r], q[r + 1])}. */
    public int[] queryStartLoc() {
        return queryStartLoc;
    }

    /** {@link #queryStartLoc()} as native int32 values. */
    public MemorySegment queryStartLocSegment() {
        return queryStartLocNative.view();
    }

    /** Per row, its length after the step. */
    public int[] seqLens() {
        return seqLens;
    }

    /** {@link #seqLens()} as native int32 values. */
    public MemorySegment seqLensSegment() {
        return seqLensNative.view();
    }

    /** Per row, its length before the step. */
    public int[] contextLens() {
        return contextLens;
    }

    /** {@link #contextLens()} as native int32 values. */
    public MemorySegment contextLensSegment() {
        return contextLensNative.view();
    }

    /** Copy-on-write pairs of group {@code group} in this step (already applied by the planner). */
    public int copies(int group) {
        return copies[checkGroup(group)];
    }

    /** Group {@code group}'s copy-on-write pairs, {@code (from, to)} at {@code [2 * i, 2 * i + 1]} for {@code i < copies(group)}. */
    public int[] copyPairs(int group) {
        return copyPairs[checkGroup(group)];
    }

    // ---------------------------------------------------------------------------------------------
    // per row

    /** The sequence of {@code row}. */
    public GroupedStepSequence sequence(int row) {
        checkRow(row);
        return sequences[row];
    }

    /** Flat index of {@code row}'s first new token. */
    public int queryStart(int row) {
        checkRow(row);
        return queryStartLoc[row];
    }

    /** New tokens of {@code row} in this step. */
    public int queryLength(int row) {
        checkRow(row);
        return queryStartLoc[row + 1] - queryStartLoc[row];
    }

    /** {@code row}'s length before the step. */
    public int contextLength(int row) {
        checkRow(row);
        return contextLens[row];
    }

    /** {@code row}'s length after the step. */
    public int seqLen(int row) {
        checkRow(row);
        return seqLens[row];
    }

    /** The first model position group {@code group} holds for {@code row} (0 for a global group). */
    public int firstPosition(int row, int group) {
        checkRow(row);
        return firstPositions[checkGroup(group)][row];
    }

    /** Model positions of {@code row} a kernel may read in model {@code layer} now: its written mark there. */
    public int readableTokens(int row, int layer) {
        checkRow(row);
        checkLayer(layer);
        return sequences[row].sequence.written(layer);
    }

    /**
     * The whole block of group {@code group} holding {@code row}'s model block {@code modelBlock},
     * writable; only blocks that receive a new token of this step (copy-on-write resolved at planning).
     *
     * @throws IllegalArgumentException if the block receives no new token of the row in this step
     */
    public MemorySegment writableBlock(int row, int group, int modelBlock) {
        checkRow(row);
        checkGroup(group);
        GroupedStepSequence s = sequences[row];
        int first = s.stepStart / blockSize;
        int last = (s.stepStart + s.stepCount - 1) / blockSize;
        if (modelBlock < first || modelBlock > last) {
            throw new IllegalArgumentException("modelBlock: " + modelBlock + " (expected: a block receiving this step's"
                    + " tokens, " + first + " <= modelBlock <= " + last + "; other blocks are read-only)");
        }
        return s.stepBlocks[group][modelBlock - first];
    }

    /**
     * States that the row's first {@code count} new tokens are written in model {@code layer}; advances
     * the written mark. Never lowers it.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above {@link #queryLength(int)}
     */
    public void markWritten(int row, int layer, int count) {
        checkRow(row);
        checkLayer(layer);
        checkCount(row, count);
        int i = row * layers + layer;
        if (count > progress[i]) {
            progress[i] = count;
            GroupedStepSequence s = sequences[row];
            s.sequence.markWritten(layer, s.stepStart + count);
        }
    }

    /**
     * States that the row's first {@code count} new tokens are written in every layer of every group.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above {@link #queryLength(int)}
     */
    public void markWritten(int row, int count) {
        checkRow(row);
        checkCount(row, count);
        int base = row * layers;
        for (int l = 0; l < layers; l++) {
            progress[base + l] = Math.max(progress[base + l], count);
        }
        GroupedStepSequence s = sequences[row];
        s.sequence.markWritten(s.stepStart + count);
    }

    GroupedStepPlanner planner() {
        return planner;
    }

    @Override
    public String toString() {
        return "GroupedStepPlan[step " + step + (open ? ", in flight" : ", done") + ", rows=" + rows + ", tokens="
                + tokens + ", width=" + width + ", groups=" + groupCount + "]";
    }
}
