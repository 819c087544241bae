package io.pagedkv.engine;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.PrefixProbe;
import io.pagedkv.cache.Sequence;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Plans the steps of an inference engine on a {@link PagedKvCache}: the scheduler thread admits
 * requests, asks for room for each step's batch and hands the resulting {@link StepPlan} to worker
 * threads, which write K/V through it with {@link KvWriter}s and attend through its block tables; then
 * it completes the step, which offers the written full blocks to the prefix cache.
 *
 * <h2>A step</h2>
 * <pre>{@code
 * StepPlanner planner = new StepPlanner(cache, watermarkBlocks);
 * // between steps: admit, preempt, release, fork
 * StepSequence seq = planner.admit(prompt, prompt.length, PrefixKeys.NONE); // null: does not fit now
 * // building a step: room for k new tokens per sequence, all or nothing per sequence
 * if (!planner.schedule(seq, tokens, seq.length(), k)) { ... preempt someone and retry ... }
 * StepPlan plan = planner.plan();         // slot mapping, block tables, query starts, lengths
 * ... workers: writer.write(plan, row, layer, ...); attend over plan.blockTable(row) ...
 * planner.complete(plan);                 // commits written full blocks to the prefix cache
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li><b>All or nothing per sequence:</b> {@link #schedule} either reserves every slot of the
 *       sequence's new tokens (and resolves every copy-on-write they need) or changes nothing.</li>
 *   <li><b>Copy-on-write before any write:</b> a new token's block is made the sequence's own while
 *       the step is planned, before the plan exists; {@link StepPlan#copyPairs()} reports the copies
 *       already made. Fork and prefix commits happen only between steps (the planner refuses them
 *       while a plan is in flight), so no block becomes shared while workers write.</li>
 *   <li><b>Side-effect-free probe:</b> {@link #probe} reads the prefix index without taking a block,
 *       moving the LRU or counting a query; a refused {@link #admit} leaves the cache exactly as it
 *       was.</li>
 *   <li><b>Admission that says yes holds:</b> {@link #admit} opens a sequence only when the whole
 *       prompt plus one generated token fit (plus {@link #watermark()} blocks when other sequences
 *       run); the open then takes no new block, and scheduling the prompt right after cannot fail for
 *       lack of blocks, provided no other thread allocates from the cache in between (the planner
 *       should be the cache's only allocator).</li>
 *   <li><b>Written marks:</b> a sequence is scheduled only when every token it reserved is written in
 *       every layer; writers advance the marks per layer; kernels read up to the marks; commits and
 *       preemption index only written blocks.</li>
 *   <li><b>Preemption by recompute:</b> {@link #preempt} offers the sequence's written full blocks to
 *       the prefix cache and releases the rest, so re-admitting the same tokens hits them.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * One owner thread, the scheduler: every method except {@link #newWriter()} and the queries
 * ({@link #running()}, {@link #steps()}, {@link #preemptions()}, {@link #watermark()},
 * {@link #cache()}, {@link #isStepInFlight()}) must be called from it. The first thread that calls
 * an owner method becomes the owner; a call from any other thread throws
 * {@link IllegalStateException} (one volatile read per call). Workers use only the plan and their own
 * {@link KvWriter}s; they never take the planner's state. The old per-sequence API of
 * {@link Sequence} keeps working beside it on other sequences of the same cache, but allocations
 * behind the planner's back void its admission promise (never its safety).
 */
public final class StepPlanner {

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(StepPlanner.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PagedKvCache cache;
    private final CacheLayout layout;
    private final int blockSize;
    private final int watermark;
    private final StepPlan plan;

    @SuppressWarnings("unused") // through OWNER
    private volatile Thread owner;

    // owner-thread state
    private StepSequence[] scheduled = new StepSequence[8];
    private int scheduledCount;
    private int[] pairs = new int[8];
    private int pairCount;
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
    public StepPlanner(PagedKvCache cache, int watermarkBlocks) {
        if (cache == null) {
            throw new IllegalArgumentException("cache: null (expected: a PagedKvCache)");
        }
        int blocks = cache.pool().blockCount();
        if (watermarkBlocks < 0 || watermarkBlocks >= blocks) {
            throw new IllegalArgumentException("watermarkBlocks: " + watermarkBlocks + " (expected: 0 <= watermark < "
                    + blocks + " blocks)");
        }
        this.layout = cache.layout();
        this.blockSize = layout.blockSize();
        long slots = (long) blocks * blockSize;
        if (slots > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("slots: " + blocks + " blocks x " + blockSize + " = " + slots
                    + " (expected: <= " + Integer.MAX_VALUE + ", so a flat slot index is an int)");
        }
        this.cache = cache;
        this.watermark = watermarkBlocks;
        this.plan = new StepPlan(this, cache);
    }

    // ---------------------------------------------------------------------------------------------
    // admission

    /**
     * What admitting {@code tokens[0 .. length)} under {@code keys} would take now, without touching
     * anything. See {@link AdmissionProbe}.
     *
     * @throws IllegalArgumentException if {@code tokens} or {@code keys} is null or {@code length} is
     *     outside {@code [1, tokens.length]}
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public AdmissionProbe probe(int[] tokens, int length, PrefixKeys keys) {
        checkOwner();
        StepArgs.checkPrompt(tokens, length, keys);
        PrefixProbe hit = cache.probePrefix(tokens, length, keys);
        long need = layout.blocksFor(length + 1L) - hit.blocks() + hit.reclaimableBlocks();
        int needed = (int) Math.min(Integer.MAX_VALUE, need);
        long room = cache.availableBlocks() - (running > 0 ? (long) watermark : 0L);
        boolean ever = layout.blocksFor(length + 1L) <= cache.pool().blockCount();
        return new AdmissionProbe(hit.tokens(), needed, need <= room, ever);
    }

    /**
     * Opens a sequence for {@code tokens[0 .. length)} (the prompt, plus what it generated before a
     * preemption), reusing the longest cached prefix, if {@link #probe} says it fits now; otherwise
     * returns {@code null} having changed nothing. The engine then schedules the uncached rest, in one
     * step or in chunks.
     *
     * @throws IllegalArgumentException as {@link #probe}
     * @throws IllegalStateException if a step is in flight, or called from a thread other than the owner
     */
    public StepSequence admit(int[] tokens, int length, PrefixKeys keys) {
        checkOwner();
        checkBetweenSteps("admit");
        AdmissionProbe p = probe(tokens, length, keys);
        if (!p.fitsNow()) {
            return null;
        }
        Sequence seq = cache.openSequence(Arrays.copyOf(tokens, length), keys);
        running++;
        return new StepSequence(this, seq, seq.reusedTokens(), StepSequence.mirrorOf(seq));
    }

    // ---------------------------------------------------------------------------------------------
    // building a step

    /**
     * Reserves room in the step being built for {@code count} new tokens of {@code seq}, whose ids are
     * {@code tokens[from .. from + count)} (a prefill chunk, or the one token a decode step computes):
     * all of it, with every block and copy-on-write it needs, or nothing.
     *
     * @param from must equal {@code seq.length()}: tokens are appended in order
     * @return {@code false}, changing nothing, when the pool cannot hand out the blocks (preempt a
     *     sequence and retry, or leave this one out of the step)
     * @throws IllegalArgumentException if the range is empty, outside {@code tokens}, or does not start
     *     at the sequence's length
     * @throws IllegalStateException if {@code seq} is not a running sequence of this planner, is already
     *     in this step, holds tokens reserved but not written in every layer (a step that did not
     *     complete: release or preempt it), a step is in flight, or called from another thread
     */
    public boolean schedule(StepSequence seq, int[] tokens, int from, int count) {
        checkOwner();
        checkBetweenSteps("schedule");
        checkRunning(seq, "schedule");
        if (seq.row >= 0) {
            throw new IllegalStateException(seq + ": already scheduled in this step (expected: once per step)");
        }
        Sequence s = seq.sequence;
        int len = s.length();
        StepArgs.checkAppend(tokens, from, count, len);
        int writtenTokens = s.writtenTokens();
        if (writtenTokens < len) {
            throw new IllegalStateException(seq + ": tokens [" + writtenTokens + ", " + len + ") reserved but not"
                    + " written in every layer (expected: a completed step; release or preempt it)");
        }
        int bc = s.blockCount();
        int oldLast = len % blockSize != 0 ? seq.blocks[bc - 1] : -1;
        if (!s.tryAppendTokens(tokens, from, count)) {
            return false;
        }
        int nbc = s.blockCount();
        seq.ensureBlocks(nbc);
        for (int i = bc; i < nbc; i++) {
            seq.blocks[i] = s.blockId(i);
        }
        if (oldLast >= 0) {
            noteCopy(seq, bc - 1, oldLast); // the append copied a shared, partly filled last block
        }
        int first = len / blockSize;
        int last = (len + count - 1) / blockSize;
        if (seq.stepBlocks.length < last - first + 1) {
            seq.stepBlocks = new MemorySegment[Math.max(last - first + 1, seq.stepBlocks.length * 2)];
        }
        for (int i = first; i <= last; i++) {
            int before = seq.blocks[i];
            seq.stepBlocks[i - first] = s.writableBlock(i); // exclusive already: the append resolved it
            noteCopy(seq, i, before);
        }
        seq.stepStart = len;
        seq.stepCount = count;
        seq.firstNewBlock = first;
        if (scheduledCount == scheduled.length) {
            scheduled = Arrays.copyOf(scheduled, scheduledCount * 2);
        }
        seq.row = scheduledCount;
        scheduled[scheduledCount++] = seq;
        return true;
    }

    /** Records a copy-on-write if the block at {@code index} is no longer {@code before}. */
    private void noteCopy(StepSequence seq, int index, int before) {
        int now = seq.sequence.blockId(index);
        if (now != before) {
            if (pairs.length < 2 * pairCount + 2) {
                pairs = Arrays.copyOf(pairs, pairs.length * 2);
            }
            pairs[2 * pairCount] = before;
            pairs[2 * pairCount + 1] = now;
            pairCount++;
            seq.blocks[index] = now;
        }
    }

    /** Sequences scheduled in the step being built. */
    public int scheduledCount() {
        checkOwner();
        return scheduledCount;
    }

    /**
     * Finishes the step being built and hands out its plan: from now until {@link #complete} workers
     * may write and read through it, and the planner refuses every structural change. A step with no
     * scheduled sequence gives an empty plan.
     *
     * @throws IllegalStateException if a step is already in flight, or called from another thread
     */
    public StepPlan plan() {
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
     * Ends the step in flight: the plan closes (later writes through it throw), and every row whose new
     * tokens are written in every layer offers its newly filled blocks to the prefix cache. A row left
     * incomplete (a worker failed) keeps its unwritten tail and cannot be scheduled again: release or
     * preempt it.
     *
     * @return the rows whose tokens were all written
     * @throws IllegalStateException if {@code plan} is not this planner's plan in flight, or called from
     *     another thread
     */
    public int complete(StepPlan plan) {
        checkOwner();
        if (plan != this.plan || !inFlight) {
            throw new IllegalStateException("plan: " + plan + " (expected: this planner's plan in flight, "
                    + (inFlight ? "step " + steps : "none is") + ")");
        }
        plan.close();
        int done = 0;
        for (int r = 0; r < scheduledCount; r++) {
            StepSequence seq = scheduled[r];
            scheduled[r] = null;
            seq.row = -1;
            int end = seq.stepStart + seq.stepCount;
            if (seq.sequence.writtenTokens() >= end) {
                done++;
                int full = end / blockSize;
                if (full > seq.offeredBlocks) {
                    seq.sequence.commitPrefix();
                    seq.offeredBlocks = full;
                }
            }
        }
        scheduledCount = 0;
        pairCount = 0;
        inFlight = false;
        return done;
    }

    // ---------------------------------------------------------------------------------------------
    // between steps

    /**
     * Preempts {@code seq} by recompute: its written full blocks go to the prefix cache, everything it
     * holds is released, and it is {@link StepSequence.State#PREEMPTED}. Re-admitting its tokens
     * ({@link #admit}) reuses the cached blocks (when prefix caching is on).
     *
     * @throws IllegalStateException if {@code seq} is not running here, is scheduled in the step being
     *     built, a step is in flight, or called from another thread
     */
    public void preempt(StepSequence seq) {
        checkOwner();
        checkBetweenSteps("preempt");
        checkIdle(seq, "preempt");
        seq.sequence.commitPrefix();
        closeAs(seq, StepSequence.State.PREEMPTED);
    }

    /**
     * Preempts {@code seq} in swap mode: like {@link #preempt}, and each written full block of its
     * prefix chain is also handed to the cache's {@link io.pagedkv.cache.PrefixOffload} (a
     * {@code PrefixTier}'s transfer queue copies it and returns), so re-admission finds it in the
     * tier even after the pool reclaimed the blocks.
     *
     * @return blocks handed to the offload hook (0 without one)
     * @throws IllegalStateException as {@link #preempt}
     */
    public int preemptAndOffload(StepSequence seq) {
        checkOwner();
        checkBetweenSteps("preempt");
        checkIdle(seq, "preempt");
        int offered = seq.sequence.offloadPrefix();
        closeAs(seq, StepSequence.State.PREEMPTED);
        return offered;
    }

    /** Closes an idle running {@code seq}'s sequence and leaves it {@code state} (a preemption is counted). */
    private void closeAs(StepSequence seq, StepSequence.State state) {
        seq.sequence.close();
        seq.state = state;
        running--;
        if (state == StepSequence.State.PREEMPTED) {
            preemptions++;
        }
    }

    /**
     * Releases {@code seq} (finished or cancelled); blocks it committed stay cached for later requests.
     *
     * @throws IllegalStateException as {@link #preempt}
     */
    public void release(StepSequence seq) {
        checkOwner();
        checkBetweenSteps("release");
        checkIdle(seq, "release");
        closeAs(seq, StepSequence.State.CLOSED);
    }

    /**
     * Releases {@code seq} like {@link #release} and first hands each written full block of its prefix
     * chain not handed before to the cache's {@link io.pagedkv.cache.PrefixOffload}: write-back at the
     * end of a request, so other servers on the same tier can restore its prefix at once (LMCache
     * stores a request's KV when its prefill is done).
     *
     * @return blocks handed to the offload hook (0 without one)
     * @throws IllegalStateException as {@link #preempt}
     */
    public int releaseAndOffload(StepSequence seq) {
        checkOwner();
        checkBetweenSteps("release");
        checkIdle(seq, "release");
        int offered = seq.sequence.offloadPrefix();
        closeAs(seq, StepSequence.State.CLOSED);
        return offered;
    }

    /**
     * A child of {@code seq} that shares every block (parallel sampling, beam search): the first new
     * token either side appends into a shared, partly filled block copies it while that step is planned.
     *
     * @throws IllegalStateException as {@link #preempt}
     */
    public StepSequence fork(StepSequence seq) {
        checkOwner();
        checkBetweenSteps("fork");
        checkIdle(seq, "fork");
        Sequence child = seq.sequence.fork();
        running++;
        StepSequence c = new StepSequence(this, child, seq.cachedTokens(), seq.blocks.clone());
        c.offeredBlocks = seq.offeredBlocks;
        return c;
    }

    /** The planner's one plan object (open only while a step is in flight). */
    StepPlan currentPlan() {
        return plan;
    }

    /** A writer for one worker thread (any thread may call this; each writer is used by one thread at a time). */
    public KvWriter newWriter() {
        return new KvWriter(this);
    }

    // ---------------------------------------------------------------------------------------------
    // queries (any thread)

    /** The cache this planner allocates from. */
    public PagedKvCache cache() {
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

    /** Whether a plan is in flight (between {@link #plan()} and {@link #complete}). */
    public boolean isStepInFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return "StepPlanner[running=" + running + ", steps=" + steps + ", preemptions=" + preemptions
                + ", watermark=" + watermark + (inFlight ? ", step in flight" : "") + "]";
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
                    + owner.getName() + "; a StepPlanner is confined to one scheduler thread)");
        }
    }

    private void checkBetweenSteps(String what) {
        if (inFlight) {
            throw new IllegalStateException(what + ": step " + steps + " is in flight (expected: between complete()"
                    + " and the next plan())");
        }
    }

    private void checkRunning(StepSequence seq, String what) {
        if (seq == null) {
            throw new IllegalArgumentException(what + ": null (expected: a StepSequence)");
        }
        if (seq.planner != this) {
            throw new IllegalArgumentException(what + ": " + seq + " (expected: a sequence of this planner)");
        }
        if (seq.state != StepSequence.State.RUNNING) {
            throw new IllegalStateException(what + ": " + seq + " (expected: RUNNING)");
        }
    }

    private void checkIdle(StepSequence seq, String what) {
        checkRunning(seq, what);
        if (seq.row >= 0) {
            throw new IllegalStateException(what + ": " + seq + " is scheduled in the step being built (expected:"
                    + " a sequence outside it; " + what + " before scheduling it)");
        }
    }
}
