package io.pagedkv.engine;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedKvCache;
import io.pagedkv.cache.GroupedSequence;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.PrefixProbe;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Plans the steps of an inference engine serving a hybrid model (sliding-window and global layer
 * groups over one pool, Gemma-2 or gpt-oss style) on a {@link GroupedKvCache}: the
 * {@link StepPlanner} of the layer-group layout. The scheduler admits requests, reserves each step's
 * new tokens in every group, hands the {@link GroupedStepPlan} (per group a slot mapping and a padded
 * block-table matrix) to its workers and completes the step, which commits written full blocks and
 * releases the sliding groups' blocks that fell outside the window.
 *
 * <pre>{@code
 * GroupedStepPlanner planner = new GroupedStepPlanner(cache, watermarkBlocks);
 * GroupedStepSequence seq = planner.admit(prompt, prompt.length, PrefixKeys.NONE); // null: not now
 * if (!planner.schedule(seq, tokens, seq.length(), k)) { ... preempt someone and retry ... }
 * GroupedStepPlan plan = planner.plan();   // per group: slotMapping(g), blockTables(g), copyPairs(g)
 * ... workers: write layer l through group groups.groupOf(l)'s slots, markWritten(row, l, n) ...
 * planner.complete(plan);                  // commit written full blocks; release outside the window
 * }</pre>
 *
 * <h2>Guarantees (those of {@link StepPlanner}, over every group)</h2>
 * <ul>
 *   <li><b>All or nothing across groups and per sequence:</b> {@link #schedule} reserves every slot
 *       of the sequence's new tokens in every group (with their copy-on-writes), or changes nothing.
 *       A sliding group's blocks outside the window of the first new token are released by the
 *       append and counted as room, so a full pool does not refuse a decode step that frees a
 *       block.</li>
 *   <li><b>Copy-on-write before any write</b>, reported per group in {@link GroupedStepPlan#copyPairs(int)}.</li>
 *   <li><b>Side-effect-free probe</b> and <b>a yes holds</b>: {@link #probe} counts, per group, the
 *       new blocks of the prompt plus one token beyond the prefix hit (vLLM's hybrid rule, as
 *       {@link GroupedKvCache#probePrefix}: every block below the hit in a global group, the window's
 *       blocks in a sliding group), plus the reused blocks that sit in the LRU; nothing is touched. It counts a sliding group
 *       as if it kept the whole prompt (what a prompt scheduled in one step holds), so a yes is never
 *       too optimistic.</li>
 *   <li><b>Written marks per model layer</b>: kernels read up to them; commits and preemption index
 *       only blocks written in every layer of every group.</li>
 *   <li><b>Window release at step boundaries</b>: {@link #complete} releases the sliding groups'
 *       blocks outside the window of each completed row's next token; a sliding group holds at most
 *       {@link LayerGroups#maxWindowBlocks} blocks between steps.</li>
 *   <li><b>Preemption by recompute</b> commits the written full blocks (each group's chain as
 *       {@link GroupedSequence#commitPrefix()} allows), then releases everything.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * As {@link StepPlanner}: one owner thread (the first that calls an owner method; any other thread's
 * call throws); workers use only the plan; the queries are safe from any thread.
 */
public final class GroupedStepPlanner {

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(GroupedStepPlanner.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final GroupedKvCache cache;
    private final LayerGroups groups;
    private final int groupCount;
    private final CacheLayout layout;
    private final int blockSize;
    private final int watermark;
    private final GroupedStepPlan plan;

    @SuppressWarnings("unused") // through OWNER
    private volatile Thread owner;

    private GroupedStepSequence[] scheduled = new GroupedStepSequence[8];
    private int scheduledCount;
    private final int[][] pairs;
    private final int[] pairCount;
    private final int[] oldLast;
    private final int[] oldEnd;
    private long nextId = 1;
    private volatile boolean inFlight;
    private volatile int running;
    private volatile long steps;
    private volatile long preemptions;

    /**
     * A planner over {@code cache} that keeps {@code watermarkBlocks} blocks free for running
     * sequences when it admits a request while others run.
     *
     * @throws IllegalArgumentException if the cache is null, the watermark is negative or not below
     *     the pool's blocks, or the pool has so many slots that a flat slot index overflows an int
     */
    public GroupedStepPlanner(GroupedKvCache cache, int watermarkBlocks) {
        if (cache == null) {
            throw new IllegalArgumentException("cache: null (expected: a GroupedKvCache)");
        }
        int blocks = cache.blockCount();
        if (watermarkBlocks < 0 || watermarkBlocks >= blocks) {
            throw new IllegalArgumentException("watermarkBlocks: " + watermarkBlocks + " (expected: 0 <= watermark < "
                    + blocks + " blocks)");
        }
        this.layout = cache.groupLayout();
        this.blockSize = layout.blockSize();
        long slots = (long) blocks * blockSize;
        if (slots > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("slots: " + blocks + " blocks x " + blockSize + " = " + slots
                    + " (expected: <= " + Integer.MAX_VALUE + ", so a flat slot index is an int)");
        }
        this.cache = cache;
        this.groups = cache.groups();
        this.groupCount = groups.groupCount();
        this.watermark = watermarkBlocks;
        this.plan = new GroupedStepPlan(this, groups, blockSize);
        this.pairs = new int[groupCount][8];
        this.pairCount = new int[groupCount];
        this.oldLast = new int[groupCount];
        this.oldEnd = new int[groupCount];
    }

    // ---------------------------------------------------------------------------------------------
    // admission

    /**
     * What admitting {@code tokens[0 .. length)} under {@code keys} would take now, without touching
     * anything: the prefix every group has cached, and the blocks over all groups. See {@link AdmissionProbe}.
     *
     * @throws IllegalArgumentException if {@code tokens} or {@code keys} is null or {@code length} is
     *     outside {@code [1, tokens.length]}
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public AdmissionProbe probe(int[] tokens, int length, PrefixKeys keys) {
        checkOwner();
        StepArgs.checkPrompt(tokens, length, keys);
        PrefixProbe p = cache.probePrefix(tokens, length, keys); // the hit admit's open takes, under the same rule
        int hit = p.tokens();
        long perGroup = layout.blocksFor(length + 1L);
        // every group appends the blocks from the hit on; a sliding group counted as if it kept them all
        long need = groupCount * (perGroup - hit / blockSize) + p.reclaimableBlocks();
        int needed = (int) Math.min(Integer.MAX_VALUE, need);
        long room = cache.availableBlocks() - (running > 0 ? (long) watermark : 0L);
        boolean ever = perGroup * groupCount <= cache.blockCount();
        return new AdmissionProbe(hit, needed, need <= room, ever);
    }

    /**
     * Opens a grouped sequence for {@code tokens[0 .. length)}, reusing the prefix hit
     * {@link #probe} counts (vLLM's hybrid rule), if it says the request fits now; otherwise returns {@code null} having changed nothing.
     *
     * @throws IllegalArgumentException as {@link #probe}
     * @throws IllegalStateException if a step is in flight, or called from a thread other than the owner
     */
    public GroupedStepSequence admit(int[] tokens, int length, PrefixKeys keys) {
        checkOwner();
        checkBetweenSteps("admit");
        AdmissionProbe p = probe(tokens, length, keys);
        if (!p.fitsNow()) {
            return null;
        }
        GroupedSequence seq = cache.openSequence(Arrays.copyOf(tokens, length), keys);
        running++;
        return new GroupedStepSequence(this, nextId++, seq, seq.reusedTokens(), blockSize);
    }

    // ---------------------------------------------------------------------------------------------
    // building a step

    /**
     * Reserves room in the step being built for {@code count} new tokens of {@code seq}
     * ({@code tokens[from .. from + count)}) in every group: all of it, with every block and
     * copy-on-write it needs, or nothing.
     *
     * @param from must equal {@code seq.length()}
     * @return {@code false}, changing nothing, when the pool cannot hand every group its blocks
     * @throws IllegalArgumentException if the range is empty, outside {@code tokens}, or does not start
     *     at the sequence's length
     * @throws IllegalStateException if {@code seq} is not a running sequence of this planner, is already
     *     in this step, holds tokens reserved but not written in every layer, a step is in flight, or
     *     called from another thread
     */
    public boolean schedule(GroupedStepSequence seq, int[] tokens, int from, int count) {
        checkOwner();
        checkBetweenSteps("schedule");
        checkRunning(seq, "schedule");
        if (seq.row >= 0) {
            throw new IllegalStateException(seq + ": already scheduled in this step (expected: once per step)");
        }
        GroupedSequence s = seq.sequence;
        int len = s.length();
        StepArgs.checkAppend(tokens, from, count, len);
        int written = seq.writtenTokens();
        if (written < len) {
            throw new IllegalStateException(seq + ": tokens [" + written + ", " + len + ") reserved but not"
                    + " written in every layer (expected: a completed step; release or preempt it)");
        }
        for (int g = 0; g < groupCount; g++) {
            oldEnd[g] = s.firstPosition(g) / blockSize + s.blockCount(g);
            oldLast[g] = len % blockSize != 0 ? seq.blocks[g][(len - 1) / blockSize] : -1;
        }
        if (!s.tryAppendTokens(tokens, from, count)) {
            return false;
        }
        int first = len / blockSize;
        int last = (len + count - 1) / blockSize;
        seq.ensureStepBlocks(last - first + 1);
        for (int g = 0; g < groupCount; g++) {
            int lead = s.firstPosition(g) / blockSize;
            int end = lead + s.blockCount(g);
            seq.ensureBlocks(g, end);
            int[] mirror = seq.blocks[g];
            if (seq.padded[g] < lead) {
                Arrays.fill(mirror, seq.padded[g], lead, StepPlan.PAD); // released outside the window
                seq.padded[g] = lead;
            }
            for (int i = Math.max(oldEnd[g], lead); i < end; i++) {
                mirror[i] = s.blockId(g, i - lead);
            }
            if (oldLast[g] >= 0) {
                noteCopy(seq, g, (len - 1) / blockSize, lead, oldLast[g]); // a shared, partly filled last block
            }
            MemorySegment[] writable = seq.stepBlocks[g];
            for (int i = first; i <= last; i++) {
                int before = mirror[i];
                writable[i - first] = s.writableBlock(g, i - lead); // exclusive already: the append resolved it
                noteCopy(seq, g, i, lead, before);
            }
        }
        seq.stepStart = len;
        seq.stepCount = count;
        if (scheduledCount == scheduled.length) {
            scheduled = Arrays.copyOf(scheduled, scheduledCount * 2);
        }
        seq.row = scheduledCount;
        scheduled[scheduledCount++] = seq;
        return true;
    }

    /** Records a copy-on-write in group {@code g} if model block {@code index} is no longer {@code before}. */
    private void noteCopy(GroupedStepSequence seq, int g, int index, int lead, int before) {
        int now = seq.sequence.blockId(g, index - lead);
        if (now != before) {
            int[] p = pairs[g];
            int n = pairCount[g];
            if (p.length < 2 * n + 2) {
                p = Arrays.copyOf(p, p.length * 2);
                pairs[g] = p;
            }
            p[2 * n] = before;
            p[2 * n + 1] = now;
            pairCount[g] = n + 1;
            seq.blocks[g][index] = now;
        }
    }

    /** Sequences scheduled in the step being built. */
    public int scheduledCount() {
        checkOwner();
        return scheduledCount;
    }

    /**
     * Finishes the step being built and hands out its plan; until {@link #complete} the planner
     * refuses every structural change.
     *
     * @throws IllegalStateException if a step is already in flight, or called from another thread
     */
    public GroupedStepPlan plan() {
        checkOwner();
        checkBetweenSteps("plan");
        plan.build(scheduled, scheduledCount, pairs, pairCount);
        long step = steps + 1;
        steps = step;
        inFlight = true;
        plan.open(step);
        return plan;
    }

    /**
     * Ends the step in flight: the plan closes; every row whose new tokens are written in every layer
     * offers its newly filled blocks to the prefix cache; then every row releases its sliding groups'
     * blocks outside the window of its next token. A row left incomplete keeps its unwritten tail and
     * cannot be scheduled again: release or preempt it.
     *
     * @return the rows whose tokens were all written
     * @throws IllegalStateException if {@code plan} is not this planner's plan in flight, or called
     *     from another thread
     */
    public int complete(GroupedStepPlan plan) {
        checkOwner();
        if (plan != this.plan || !inFlight) {
            throw new IllegalStateException("plan: " + plan + " (expected: this planner's plan in flight, "
                    + (inFlight ? "step " + steps : "none is") + ")");
        }
        plan.close();
        int done = 0;
        for (int r = 0; r < scheduledCount; r++) {
            GroupedStepSequence seq = scheduled[r];
            scheduled[r] = null;
            seq.row = -1;
            int end = seq.stepStart + seq.stepCount;
            if (seq.writtenTokens() >= end) {
                done++;
                int full = end / blockSize;
                if (full > seq.offeredBlocks) {
                    seq.sequence.commitPrefix();
                    seq.offeredBlocks = full;
                }
            }
            seq.sequence.releaseOutsideWindow(); // no later query of the row attends below its window

        }
        scheduledCount = 0;
        Arrays.fill(pairCount, 0);
        inFlight = false;
        return done;
    }

    // ---------------------------------------------------------------------------------------------
    // between steps

    /**
     * Preempts {@code seq} by recompute: its written full blocks go to the prefix cache (as far as
     * each group's chain reaches), everything it holds is released, and it is PREEMPTED.
     *
     * @throws IllegalStateException if {@code seq} is not running here, is scheduled in the step being
     *     built, a step is in flight, or called from another thread
     */
    public void preempt(GroupedStepSequence seq) {
        checkOwner();
        checkBetweenSteps("preempt");
        checkIdle(seq, "preempt");
        seq.sequence.commitPrefix();
        seq.sequence.close();
        seq.state = StepSequence.State.PREEMPTED;
        running--;
        preemptions++;
    }

    /**
     * Releases {@code seq} (finished or cancelled); blocks it committed stay cached.
     *
     * @throws IllegalStateException as {@link #preempt}
     */
    public void release(GroupedStepSequence seq) {
        checkOwner();
        checkBetweenSteps("release");
        checkIdle(seq, "release");
        seq.sequence.close();
        seq.state = StepSequence.State.CLOSED;
        running--;
    }

    /**
     * A child of {@code seq} sharing every block of every group; the first new token either side
     * appends into a shared, partly filled block copies it while that step is planned.
     *
     * @throws IllegalStateException as {@link #preempt}
     */
    public GroupedStepSequence fork(GroupedStepSequence seq) {
        checkOwner();
        checkBetweenSteps("fork");
        checkIdle(seq, "fork");
        GroupedSequence child = seq.sequence.fork();
        running++;
        GroupedStepSequence c = new GroupedStepSequence(this, nextId++, child, seq.cachedTokens(), blockSize);
        c.offeredBlocks = seq.offeredBlocks;
        return c;
    }

    // ---------------------------------------------------------------------------------------------
    // queries (any thread)

    /** The cache this planner allocates from. */
    public GroupedKvCache cache() {
        return cache;
    }

    /** Blocks kept free for running sequences when a request is admitted beside them. */
    public int watermark() {
        return watermark;
    }

    /** Sequences admitted (or forked) and neither preempted nor released. */
    public int running() {
        return running;
    }

    /** Steps planned so far. */
    public long steps() {
        return steps;
    }

    /** Preemptions so far. */
    public long preemptions() {
        return preemptions;
    }

    /** Whether a plan is in flight. */
    public boolean isStepInFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return "GroupedStepPlanner[" + groups + ", running=" + running + ", steps=" + steps + ", preemptions="
                + preemptions + ", watermark=" + watermark + (inFlight ? ", step in flight" : "") + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // checks

    private void checkOwner() {
        Thread t = Thread.currentThread();
        Thread o = owner;
        if (o != t) {
            if (o == null && OWNER.compareAndSet(this, (Thread) null, t)) {
                return;
            }
            throw new IllegalStateException("thread: " + t.getName() + " (expected: the planner's owner thread "
                    + owner.getName() + "; a GroupedStepPlanner is confined to one scheduler thread)");
        }
    }

    private void checkBetweenSteps(String what) {
        if (inFlight) {
            throw new IllegalStateException(what + ": step " + steps + " is in flight (expected: between complete()"
                    + " and the next plan())");
        }
    }

    private void checkRunning(GroupedStepSequence seq, String what) {
        if (seq == null) {
            throw new IllegalArgumentException(what + ": null (expected: a GroupedStepSequence)");
        }
        if (seq.planner != this) {
            throw new IllegalArgumentException(what + ": " + seq + " (expected: a sequence of this planner)");
        }
        if (seq.state != StepSequence.State.RUNNING) {
            throw new IllegalStateException(what + ": " + seq + " (expected: RUNNING)");
        }
    }

    private void checkIdle(GroupedStepSequence seq, String what) {
        checkRunning(seq, what);
        if (seq.row >= 0) {
            throw new IllegalStateException(what + ": " + seq + " is scheduled in the step being built (expected:"
                    + " a sequence outside it; " + what + " before scheduling it)");
        }
    }
}
