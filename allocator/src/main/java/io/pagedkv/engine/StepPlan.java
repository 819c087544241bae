package io.pagedkv.engine;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.cache.PagedKvCache;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The answer of {@link StepPlanner#plan()}: where every new token of a step goes and what the kernels
 * of the step read, as plain arrays (and native int32 segments with the same content), the way vLLM's
 * scheduler hands its model runner {@code slot_mapping}, {@code block_tables}, {@code query_start_loc}
 * and {@code seq_lens}.
 *
 * <p>The step's batch has {@link #rows()} rows (sequences, in the order they were scheduled) and
 * {@link #tokens()} new tokens, row {@code r}'s at flat indices {@code [queryStart(r), queryStart(r + 1))}:
 * <ul>
 *   <li>{@link #slotMapping()}: per new token, the flat slot {@code blockId * blockSize + offset} it is
 *       written to (vLLM's {@code slot_mapping});</li>
 *   <li>{@link #blockTables()}: the rows' block tables as one row-major {@code rows x blockTableWidth}
 *       matrix, padded with {@link #PAD} (vLLM's {@code block_tables});</li>
 *   <li>{@link #queryStartLoc()}: {@code rows + 1} prefix sums of the new tokens per row;
 *       {@link #seqLens()}: each row's length after the step; {@link #contextLens()}: before it (its
 *       computed tokens);</li>
 *   <li>{@link #copyPairs()}: the copy-on-write pairs {@code (from, to)} of the step (vLLM's
 *       {@code blocks_to_copy}). <b>The planner has already applied them</b> to the pool's memory
 *       before handing the plan out, so no write of this step can precede its copy; an engine that
 *       mirrors blocks elsewhere (a device) applies the same pairs there before its own writes.</li>
 * </ul>
 *
 * <h2>Writing and reading</h2>
 * Workers write K/V with a {@link KvWriter} (or, with their own kernels, into
 * {@link #writableBlock(int, int)} and then {@link #markWritten(int, int, int)}); each (row, layer)
 * is written by one thread at a time, its tokens in order. Kernels attend through
 * {@link #blockTable(int)} over {@link #readableTokens(int, int)} tokens: the row's written mark in
 * that layer, so no kernel is ever pointed at a slot that is reserved but not written.
 *
 * <h2>Lifetime and threading</h2>
 * One plan object per planner, reused every step: it is valid from {@link StepPlanner#plan()} to
 * {@link StepPlanner#complete(StepPlan)}, during which any number of threads may read it and write
 * distinct (row, layer) pairs; after that every write throws. The arrays are the plan's own (do not
 * modify them) and longer than their valid prefix; the segments are read-only and hold at least the
 * valid entries. Nothing is allocated per step once the arrays have grown to the largest batch.
 */
public final class StepPlan {

    /** Block table padding: no block (an out-of-range read fails instead of reading another request's block). */
    public static final int PAD = -1;

    private final StepPlanner planner;
    private final PagedKvCache cache;
    private final int layers;
    private final int blockSize;

    /** Whether the plan is in flight (between plan() and complete()). */
    private volatile boolean open;
    private long step;

    private int rows;
    private int tokens;
    private int width;
    private int copies;
    private StepSequence[] sequences = new StepSequence[8];
    private RowBlockTable[] views = new RowBlockTable[0];
    private int[] slotMapping = new int[16];
    private int[] blockTables = new int[64];
    private int[] queryStartLoc = new int[9];
    private int[] seqLens = new int[8];
    private int[] contextLens = new int[8];
    private int[] copyPairs = new int[8];
    /** Per (row, layer): new tokens of the row written in that layer this step. */
    private int[] progress = new int[8];

    private final NativeInts slotMappingNative = new NativeInts();
    private final NativeInts blockTablesNative = new NativeInts();
    private final NativeInts queryStartLocNative = new NativeInts();
    private final NativeInts seqLensNative = new NativeInts();
    private final NativeInts contextLensNative = new NativeInts();

    StepPlan(StepPlanner planner, PagedKvCache cache) {
        this.planner = planner;
        this.cache = cache;
        this.layers = cache.layout().shape().layers();
        this.blockSize = cache.layout().blockSize();
    }

    // ---------------------------------------------------------------------------------------------
    // building (owner thread, StepPlanner.plan)

    /** Lays out the scheduled rows; the plan is not yet open. */
    void build(StepSequence[] scheduled, int n, int[] pairs, int pairCount) {
        int total = 0;
        int w = 0;
        for (int r = 0; r < n; r++) {
            total += scheduled[r].stepCount;
            w = Math.max(w, scheduled[r].sequence.blockCount());
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
        if (views.length < n) {
            RowBlockTable[] grown = Arrays.copyOf(views, Math.max(n, views.length * 2));
            for (int r = views.length; r < grown.length; r++) {
                grown[r] = new RowBlockTable(this, cache, r);
            }
            views = grown;
        }
        if (slotMapping.length < total) {
            slotMapping = new int[Math.max(total, slotMapping.length * 2)];
        }
        if (blockTables.length < n * w) {
            blockTables = new int[Math.max(n * w, blockTables.length * 2)];
        }
        if (progress.length < n * layers) {
            progress = new int[Math.max(n * layers, progress.length * 2)];
        }
        if (copyPairs.length < pairCount * 2) {
            copyPairs = new int[Math.max(pairCount * 2, copyPairs.length * 2)];
        }
        int q = 0;
        for (int r = 0; r < n; r++) {
            StepSequence s = scheduled[r];
            sequences[r] = s;
            queryStartLoc[r] = q;
            contextLens[r] = s.stepStart;
            seqLens[r] = s.stepStart + s.stepCount;
            int bc = s.sequence.blockCount();
            System.arraycopy(s.blocks, 0, blockTables, r * w, bc);
            Arrays.fill(blockTables, r * w + bc, (r + 1) * w, PAD);
            for (int i = 0; i < s.stepCount; i++) {
                int pos = s.stepStart + i;
                slotMapping[q++] = s.blocks[pos / blockSize] * blockSize + pos % blockSize;
            }
        }
        queryStartLoc[n] = q;
        Arrays.fill(progress, 0, n * layers, 0);
        System.arraycopy(pairs, 0, copyPairs, 0, pairCount * 2);
        copies = pairCount;
        slotMappingNative.publish(slotMapping, total);
        blockTablesNative.publish(blockTables, n * w);
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
    // checks used by writers

    /** Throws unless the plan is in flight and {@code row} is one of its rows. */
    void checkRow(int row) {
        if (!open) {
            throw new IllegalStateException("plan of step " + step + ": not in flight (expected: between"
                    + " StepPlanner.plan() and complete())");
        }
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row: " + row + " (expected: 0 <= row < rows " + rows + ")");
        }
    }

    void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
    }

    private void checkCount(int row, int count) {
        int n = queryStartLoc[row + 1] - queryStartLoc[row];
        if (count < 0 || count > n) {
            throw new IllegalArgumentException("count: " + count + " (expected: 0 <= count <= the row's " + n
                    + " new tokens)");
        }
    }

    /** New tokens of {@code row} written in {@code layer} so far this step. */
    int progress(int row, int layer) {
        return progress[row * layers + layer];
    }

    /**
     * Records that the row's new tokens {@code [0, upTo)} are written in {@code layer} and advances the
     * sequence's written mark to match.
     */
    void advance(int row, int layer, int upTo) {
        progress[row * layers + layer] = upTo;
        StepSequence s = sequences[row];
        s.sequence.markWritten(layer, s.stepStart + upTo);
    }

    StepSequence sequenceAt(int row) {
        return sequences[row];
    }

    StepPlanner planner() {
        return planner;
    }

    /** Entry {@code index} of row {@code row}'s block table, range-checked against the row's blocks. */
    int blockIdAt(int row, int index) {
        checkRow(row);
        int bc = (seqLens[row] + blockSize - 1) / blockSize;
        if (index < 0 || index >= bc) {
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < the row's "
                    + bc + " blocks)");
        }
        return blockTables[row * width + index];
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

    /** Rows (sequences) of the batch. */
    public int rows() {
        return rows;
    }

    /** New tokens of the step, over all rows. */
    public int tokens() {
        return tokens;
    }

    /** Columns of the padded block-table matrix: the most blocks any row holds after the step. */
    public int blockTableWidth() {
        return width;
    }

    /** Per new token, its flat slot {@code blockId * blockSize + offset}; entries {@code [0, tokens())}. */
    public int[] slotMapping() {
        return slotMapping;
    }

    /** The slot mapping as native int32 values; the first {@link #tokens()} are valid. */
    public MemorySegment slotMappingSegment() {
        return slotMappingNative.view();
    }

    /**
     * The rows' block tables, row-major: entry {@code [r * blockTableWidth() + i]} is row {@code r}'s
     * block at table index {@code i}, {@link #PAD} past its last block; entries
     * {@code [0, rows() * blockTableWidth())}.
     */
    public int[] blockTables() {
        return blockTables;
    }

    /** The padded block tables as native int32 values; the first {@code rows() * blockTableWidth()} are valid. */
    public MemorySegment blockTablesSegment() {
        return blockTablesNative.view();
    }

    /** {@code rows() + 1} offsets: row {@code r}'s new tokens are flat indices {@code [q[r], q[r + 1])}. */
    public int[] queryStartLoc() {
        return queryStartLoc;
    }

    /** {@link #queryStartLoc()} as native int32 values. */
    public MemorySegment queryStartLocSegment() {
        return queryStartLocNative.view();
    }

    /** Per row, its length after the step (context plus new tokens); entries {@code [0, rows())}. */
    public int[] seqLens() {
        return seqLens;
    }

    /** {@link #seqLens()} as native int32 values. */
    public MemorySegment seqLensSegment() {
        return seqLensNative.view();
    }

    /** Per row, its length before the step: tokens already computed and written. */
    public int[] contextLens() {
        return contextLens;
    }

    /** {@link #contextLens()} as native int32 values. */
    public MemorySegment contextLensSegment() {
        return contextLensNative.view();
    }

    /** Copy-on-write pairs of the step (already applied by the planner). */
    public int copies() {
        return copies;
    }

    /** The copy-on-write pairs, {@code (from, to)} block ids at {@code [2 * i, 2 * i + 1]} for {@code i < copies()}. */
    public int[] copyPairs() {
        return copyPairs;
    }

    // ---------------------------------------------------------------------------------------------
    // per row

    /** The sequence of {@code row}. */
    public StepSequence sequence(int row) {
        checkRow(row);
        return sequences[row];
    }

    /** Flat index of {@code row}'s first new token. */
    public int queryStart(int row) {
        checkRow(row);
        return queryStartLoc[row];
    }

    /** New tokens of {@code row} in this step (a prefill chunk, or 1 when decoding). */
    public int queryLength(int row) {
        checkRow(row);
        return queryStartLoc[row + 1] - queryStartLoc[row];
    }

    /** {@code row}'s length before the step; its first new token's position. */
    public int contextLength(int row) {
        checkRow(row);
        return contextLens[row];
    }

    /** {@code row}'s length after the step. */
    public int seqLen(int row) {
        checkRow(row);
        return seqLens[row];
    }

    /**
     * Tokens of {@code row} that a kernel may read in {@code layer} now: the sequence's written mark
     * of that layer (all of the context, plus the new tokens written so far). Pass this, not
     * {@link #seqLen(int)}, as the kernel's length.
     */
    public int readableTokens(int row, int layer) {
        checkRow(row);
        checkLayer(layer);
        return sequences[row].sequence.written(layer);
    }

    /**
     * {@code row}'s block table for an attention kernel ({@link io.pagedkv.attention.PagedAttention}):
     * a view reused every step, valid while the plan is in flight.
     */
    public BlockTableView blockTable(int row) {
        checkRow(row);
        return views[row];
    }

    /**
     * The whole block at table index {@code index} of {@code row}, writable, for an engine that
     * writes K/V with its own kernel: only blocks that receive a new token of this step (their
     * copy-on-write resolved at planning), at offsets from {@link io.pagedkv.cache.CacheLayout}. Say
     * what was written with {@link #markWritten(int, int, int)}.
     *
     * @throws IllegalArgumentException if the block receives no new token of the row in this step
     */
    public MemorySegment writableBlock(int row, int index) {
        checkRow(row);
        StepSequence s = sequences[row];
        int last = (s.stepStart + s.stepCount - 1) / blockSize;
        if (index < s.firstNewBlock || index > last) {
            throw new IllegalArgumentException("index: " + index + " (expected: a block receiving this step's tokens, "
                    + s.firstNewBlock + " <= index <= " + last + "; other blocks are read-only)");
        }
        return s.stepBlocks[index - s.firstNewBlock];
    }

    /**
     * States that the row's first {@code count} new tokens are written in {@code layer} (by the
     * engine's own kernel, through {@link #slotMapping()} and {@link #writableBlock}); advances the
     * written mark. A promise the cache cannot check: slots not really written may hold another
     * request's bytes. Never lowers what was written.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above {@link #queryLength(int)}
     */
    public void markWritten(int row, int layer, int count) {
        checkRow(row);
        checkLayer(layer);
        checkCount(row, count);
        if (count > progress(row, layer)) {
            advance(row, layer, count);
        }
    }

    /**
     * States that the row's first {@code count} new tokens are written in every layer (an engine whose
     * fused kernel writes all layers); see {@link #markWritten(int, int, int)}.
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
        StepSequence s = sequences[row];
        s.sequence.markWritten(s.stepStart + count);
    }

    @Override
    public String toString() {
        return "StepPlan[step " + step + (open ? ", in flight" : ", done") + ", rows=" + rows + ", tokens=" + tokens
                + ", width=" + width + ", copies=" + copies + "]";
    }
}
