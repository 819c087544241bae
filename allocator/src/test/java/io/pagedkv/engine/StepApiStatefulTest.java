package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.NthCallFaults;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixCacheStats;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 25, must show 2: the step API against a model, on a pool of 12 blocks of 2 tokens (2 per
 * lazily reserved chunk) with a fault injector. Commands: admit (prompts from three bases sharing
 * prefixes), a step (every running request's next chunk or decode token, planned, written by a
 * worker, completed; optionally with an allocation fault armed at a random call and one worker that
 * "crashes" half way), fork, preempt, re-admit a preempted request, release, and a hog on the old
 * per-sequence API taking and giving back blocks.
 *
 * <p>Every run starts by reaching all three exhaustion paths on purpose (a chunk commit that fails as
 * out of memory, an allocation fault, a pool with no block left), each refused with nothing changed.
 * After every step: conservation, the blocks in use are exactly those some table names, every
 * reference count is the tables naming the block plus at most the prefix index's, and <b>no unwritten
 * slot is ever committed or read</b>: every free block is poisoned, and every running request reads
 * back, in every layer up to its written mark, exactly the K/V the model computes for its tokens
 * (a prefix hit on a slot nobody wrote would read poison), while a read at the mark is refused.
 */
class StepApiStatefulTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 2, 1, 2), KvDType.F32, 2);
    static final int BS = LAYOUT.blockSize();
    static final int BLOCKS = 12;
    static final int WATERMARK = 1;
    static final int MAX_TOKENS = 16;
    static final int MAX_RUNNING = 5;
    static final float POISON = 1000f;
    static final int[][] BASES = {StepPlannerTest.ids(MAX_TOKENS, 1), StepPlannerTest.ids(MAX_TOKENS, 1).clone(),
            StepPlannerTest.ids(MAX_TOKENS, 2)};

    static {
        for (int i = 6; i < MAX_TOKENS; i++) {
            BASES[1][i] = 90 + i; // shares its first 6 tokens (3 blocks) with base 0
        }
    }

    /** Paths reached over all runs of one check, beyond the prologue's: asserted at the end of the test. */
    static final Map<String, Integer> REACHED = new java.util.concurrent.ConcurrentHashMap<>();

    static void reached(String path) {
        REACHED.merge(path, 1, Integer::sum);
    }

    /** A request as the model sees it. */
    static final class Req {
        final int id;
        int[] tokens;
        int length;
        int computed;
        boolean broken;

        Req(int id, int[] tokens, int length) {
            this.id = id;
            this.tokens = Arrays.copyOf(tokens, MAX_TOKENS);
            this.length = length;
        }

        Req copy(int newId) {
            Req r = new Req(newId, tokens, length);
            r.computed = computed;
            return r;
        }
    }

    static final class Model {
        final List<Req> running = new ArrayList<>();
        final List<Req> preempted = new ArrayList<>();
        int nextId;
        int hogBlocks;
        int realExhaustions;
        int injectedExhaustions;
        int chunkFaults;
        int crashes;
        int preemptions;
    }

    static final class Sys {
        final NthCallFaults faults = new NthCallFaults();
        final PagedKvCache cache = PagedKvCache.builder(LAYOUT, BLOCKS).blocksPerChunk(2).faults(faults).build();
        final StepPlanner planner = new StepPlanner(cache, WATERMARK);
        final KvWriter writer = planner.newWriter();
        final Map<Integer, StepSequence> seqs = new HashMap<>();
        Sequence hog;
    }

    record Machine() implements StateMachine<Model, Sys> {
        @Override
        public Model initialModel() {
            Model m = new Model();
            Req r = new Req(m.nextId++, BASES[0], 4);
            r.computed = 4;
            m.running.add(r);
            m.chunkFaults = 1;
            m.injectedExhaustions = 1;
            m.realExhaustions = 1;
            return m;
        }

        @Override
        public Sys newSystem() {
            Sys sys = new Sys();
            int[] t = Arrays.copyOf(BASES[0], MAX_TOKENS);
            StepSequence s = sys.planner.admit(t, 4, PrefixKeys.NONE);
            assertNotNull(s);
            // 1. the chunk holding the first blocks cannot be reserved (out of memory): refused whole
            sys.faults.failNthChunkCommit(1);
            assertFalse(sys.planner.schedule(s, t, 0, 4));
            assertEquals(1, sys.faults.injectedFailures());
            assertEquals(0, s.length());
            assertEquals(BLOCKS, sys.cache.stats().freeBlocks());
            sys.faults.failNthChunkCommit(0);
            assertTrue(sys.planner.schedule(s, t, 0, 4));
            StepPlan plan = sys.planner.plan();
            StepKv.writeRow(sys.writer, plan, 0, t, LAYOUT);
            assertEquals(1, sys.planner.complete(plan));
            // 2. an allocation fault although blocks are free
            sys.faults.failNthAllocation(1);
            int[] more = t.clone();
            more[4] = 3;
            assertFalse(sys.planner.schedule(s, more, 4, 1));
            assertEquals(2, sys.faults.injectedFailures());
            assertEquals(4, s.length());
            sys.faults.failNthAllocation(0);
            // 3. no block left at all: a plain sequence (the old API, beside the planner) takes them
            Sequence hog = sys.cache.openSequence();
            assertTrue(hog.tryAppend(sys.cache.availableBlocks() * BS));
            CacheStats before = sys.cache.stats();
            assertFalse(sys.planner.schedule(s, more, 4, 1));
            assertEquals(before, sys.cache.stats());
            hog.close();
            sys.seqs.put(0, s);
            return sys;
        }

        @Override
        public Gen<Command<Model, Sys>> commands(Model m) {
            Gen<Integer> any = Gens.ints(0, 1 << 16);
            Gen<Command<Model, Sys>> admit = Gens.zip(Gens.ints(0, BASES.length - 1), Gens.ints(1, 12), Admit::new);
            Gen<Command<Model, Sys>> step = Gens.zip(Gens.ints(1, 5), Gens.ints(0, 6), Gens.ints(-3, 4), Step::new);
            Gen<Command<Model, Sys>> other = Gens.choose(any.map(Fork::new), any.map(Preempt::new),
                    any.map(Readmit::new), any.map(Release::new), any.map(Release::new), Gens.ints(0, 3).map(Hog::new));
            return Gens.frequency(3, admit, 6, step, 4, other);
        }

        @Override
        public void invariants(Model m, Sys sys) {
            check(m, sys);
        }

        @Override
        public void close(Sys sys) {
            for (StepSequence s : sys.seqs.values()) {
                sys.planner.release(s);
            }
            if (sys.hog != null) {
                sys.hog.close();
            }
            CacheStats st = sys.cache.stats();
            assertEquals(0, st.usedBlocks(), "nothing leaked after everything was released");
            assertEquals(BLOCKS, st.freeBlocks() + st.cachedBlocks());
            assertEquals(0, sys.planner.running());
            sys.cache.close();
        }
    }

    /** Admits {@code base[0 .. length)}: as the probe says, with nothing touched when refused, and no block taken. */
    record Admit(int base, int length) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.running.size() < MAX_RUNNING;
        }

        @Override
        public void run(Model m, Sys sys) {
            admit(m, sys, new Req(m.nextId, BASES[base], length), true);
        }

        @Override
        public String toString() {
            return "admit(base " + base + ", " + length + " tokens)";
        }
    }

    static void admit(Model m, Sys sys, Req r, boolean fresh) {
        AdmissionProbe probe = sys.planner.probe(r.tokens, r.length, PrefixKeys.NONE);
        PrefixCacheStats prefixBefore = sys.cache.prefixStats();
        CacheStats before = sys.cache.stats();
        sys.faults.failNthAllocation(1); // an admission takes no block: this fault must not fire
        long injected = sys.faults.injectedFailures();
        StepSequence s = sys.planner.admit(r.tokens, r.length, PrefixKeys.NONE);
        sys.faults.failNthAllocation(0);
        assertEquals(injected, sys.faults.injectedFailures(), "admission allocated a block");
        assertEquals(probe.fitsNow(), s != null, "admit decides as the probe did: " + probe);
        if (s == null) {
            assertEquals(prefixBefore, sys.cache.prefixStats(), "a refused admission counts nothing");
            assertEquals(before, sys.cache.stats(), "a refused admission changes nothing");
            return;
        }
        assertEquals(probe.cachedTokens(), s.cachedTokens());
        assertEquals(probe.cachedTokens(), s.length());
        if (s.cachedTokens() > 0) {
            reached(fresh ? "admission with a prefix hit" : "re-admission with a prefix hit");
        }
        r.computed = s.cachedTokens();
        if (fresh) {
            m.nextId++;
        } else {
            m.preempted.remove(r);
        }
        m.running.add(r);
        sys.seqs.put(r.id, s);
    }

    /**
     * One engine step: each running request's next chunk of at most {@code chunk} tokens (or one
     * decode token), an allocation fault armed at the {@code faultAt}-th call if positive, and the
     * row {@code crash} (if in range) written only half way.
     */
    record Step(int chunk, int faultAt, int crash) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            if (faultAt > 0) {
                sys.faults.failNthAllocation(faultAt);
            }
            List<Req> rows = new ArrayList<>();
            for (Req r : m.running) {
                if (r.broken) {
                    continue;
                }
                if (r.length == r.computed) {
                    if (r.length == MAX_TOKENS) {
                        continue; // finished; a release will take it
                    }
                    r.tokens[r.length] = 2 + (r.id * 5 + r.length) % 7; // the token sampled last step
                    r.length++;
                }
                int want = Math.min(chunk, r.length - r.computed);
                StepSequence s = sys.seqs.get(r.id);
                int need = (int) LAYOUT.blocksFor(r.computed + want) - s.blockCount()
                        + (r.computed % BS != 0 && sys.cache.pool().refCount(s.blockId(s.blockCount() - 1)) > 1 ? 1 : 0);
                int available = sys.cache.availableBlocks();
                long injected = sys.faults.injectedFailures();
                CacheStats before = sys.cache.stats();
                boolean ok = sys.planner.schedule(s, r.tokens, r.computed, want);
                boolean fired = sys.faults.injectedFailures() > injected;
                assertEquals(need <= available && !fired, ok, "schedule of " + need + " blocks with " + available
                        + " available" + (fired ? ", fault fired" : ""));
                if (ok) {
                    rows.add(r);
                    continue;
                }
                assertEquals(before, sys.cache.stats(), "a refused schedule changes nothing");
                assertEquals(r.computed, s.length());
                if (fired) {
                    m.injectedExhaustions++;
                    reached("schedule refused by an allocation fault");
                } else {
                    m.realExhaustions++;
                    reached("schedule refused by an exhausted pool");
                }
            }
            sys.faults.failNthAllocation(0);
            StepPlan plan = sys.planner.plan();
            assertEquals(rows.size(), plan.rows());
            int tokens = 0;
            for (int row = 0; row < rows.size(); row++) {
                Req r = rows.get(row);
                StepSequence s = sys.seqs.get(r.id);
                assertEquals(s, plan.sequence(row));
                assertEquals(tokens, plan.queryStart(row));
                assertEquals(r.computed, plan.contextLength(row));
                assertEquals(s.length(), plan.seqLen(row));
                for (int i = 0; i < plan.queryLength(row); i++) {
                    int pos = r.computed + i;
                    assertEquals(s.blockId(pos / BS) * BS + pos % BS, plan.slotMapping()[tokens + i], "slot of " + pos);
                }
                for (int b = 0; b < plan.blockTableWidth(); b++) {
                    int want = b < s.blockCount() ? s.blockId(b) : StepPlan.PAD;
                    assertEquals(want, plan.blockTables()[row * plan.blockTableWidth() + b], "table entry " + b);
                }
                for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                    assertEquals(r.computed, plan.readableTokens(row, l), "nothing new readable before it is written");
                }
                tokens += plan.queryLength(row);
            }
            assertEquals(tokens, plan.tokens());
            if (plan.rows() > 0) {
                reached("a planned step");
            }
            if (plan.copies() > 0) {
                reached("a copy-on-write pair");
            }
            for (int p = 0; p < plan.copies(); p++) {
                assertEquals(1, sys.cache.pool().refCount(plan.copyPairs()[2 * p + 1]), "a copy is its row's own");
            }
            for (int row = 0; row < rows.size(); row++) {
                Req r = rows.get(row);
                if (row == crash) {
                    crashHalfWay(sys, plan, row, r);
                    reached("a worker crash");
                    r.broken = true;
                    m.crashes++;
                } else {
                    StepKv.writeRow(sys.writer, plan, row, r.tokens, LAYOUT);
                }
            }
            int done = sys.planner.complete(plan);
            assertEquals(rows.size() - (crash >= 0 && crash < rows.size() ? 1 : 0), done);
            for (Req r : rows) {
                if (!r.broken) {
                    r.computed = sys.seqs.get(r.id).length();
                }
            }
        }

        @Override
        public String toString() {
            return "step(chunk " + chunk + (faultAt > 0 ? ", fault at allocation " + faultAt : "")
                    + (crash >= 0 ? ", row " + crash + " crashes" : "") + ")";
        }
    }

    /** A worker that dies half way: all of layer 0, half of layer 1. */
    static void crashHalfWay(Sys sys, StepPlan plan, int row, Req r) {
        int count = plan.queryLength(row);
        int width = LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim();
        float[] k = new float[count * width];
        float[] v = new float[count * width];
        for (int l = 0; l < 2; l++) {
            int n = l == 0 ? count : count / 2;
            if (n == 0) {
                continue;
            }
            StepKv.fill(k, r.tokens, r.computed, count, l, 0, LAYOUT);
            StepKv.fill(v, r.tokens, r.computed, count, l, 1, LAYOUT);
            sys.writer.write(plan, row, l, 0, n, k, 0, v, 0);
        }
    }

    static Req choose(List<Req> list, int pick, boolean healthy) {
        List<Req> c = new ArrayList<>();
        for (Req r : list) {
            if (!healthy || !r.broken) {
                c.add(r);
            }
        }
        return c.isEmpty() ? null : c.get(pick % c.size());
    }

    record Fork(int pick) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.running.size() < MAX_RUNNING && choose(m.running, pick, true) != null;
        }

        @Override
        public void run(Model m, Sys sys) {
            Req parent = choose(m.running, pick, true);
            sys.faults.failNthAllocation(1); // a fork takes no block
            StepSequence child = sys.planner.fork(sys.seqs.get(parent.id));
            sys.faults.failNthAllocation(0);
            Req c = parent.copy(m.nextId++);
            m.running.add(c);
            sys.seqs.put(c.id, child);
        }

        @Override
        public String toString() {
            return "fork(" + pick + ")";
        }
    }

    /** Preemption by recompute: the written full blocks stay cached, so a probe right after hits them. */
    record Preempt(int pick) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.running.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = choose(m.running, pick, false);
            StepSequence s = sys.seqs.remove(r.id);
            int written = s.writtenTokens();
            int kept = Math.min(written, r.length - 1) / BS * BS;
            sys.planner.preempt(s);
            m.running.remove(r);
            m.preemptions++;
            reached(kept > 0 ? "preemption keeping written blocks" : "preemption");
            r.computed = 0;
            r.broken = false;
            m.preempted.add(r);
            assertTrue(sys.planner.probe(r.tokens, r.length, PrefixKeys.NONE).cachedTokens() >= kept,
                    "re-admission would hit the " + kept + " written tokens of full blocks");
        }

        @Override
        public String toString() {
            return "preempt(" + pick + ")";
        }
    }

    record Readmit(int pick) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.preempted.isEmpty() && m.running.size() < MAX_RUNNING;
        }

        @Override
        public void run(Model m, Sys sys) {
            admit(m, sys, choose(m.preempted, pick, false), false);
        }

        @Override
        public String toString() {
            return "readmit(" + pick + ")";
        }
    }

    record Release(int pick) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.running.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = choose(m.running, pick, false);
            sys.planner.release(sys.seqs.remove(r.id));
            m.running.remove(r);
        }

        @Override
        public String toString() {
            return "release(" + pick + ")";
        }
    }

    /** A plain sequence (the old API) takes {@code blocks} blocks if they are available, or gives all back (0). */
    record Hog(int blocks) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            if (blocks == 0) {
                if (sys.hog != null) {
                    sys.hog.close();
                    sys.hog = null;
                }
                m.hogBlocks = 0;
                return;
            }
            if (sys.hog == null) {
                sys.hog = sys.cache.openSequence();
            }
            boolean fits = blocks <= sys.cache.availableBlocks();
            assertEquals(fits, sys.hog.tryAppend(blocks * BS));
            if (fits) {
                m.hogBlocks += blocks;
            }
        }

        @Override
        public String toString() {
            return blocks == 0 ? "unhog()" : "hog(" + blocks + " blocks)";
        }
    }

    static void check(Model m, Sys sys) {
        assertEquals(m.running.size(), sys.seqs.size());
        assertEquals(m.running.size(), sys.planner.running());
        Map<Integer, Integer> named = new HashMap<>();
        float[] out = new float[LAYOUT.shape().headDim()];
        for (Req r : m.running) {
            StepSequence s = sys.seqs.get(r.id);
            assertTrue(s.isRunning());
            assertEquals(-1, s.row(), "between steps no sequence holds a row");
            if (r.broken) {
                assertTrue(s.writtenTokens() < s.length(), "a crashed row keeps its unwritten tail");
            } else {
                assertEquals(r.computed, s.length());
                assertEquals(r.computed, s.writtenTokens());
            }
            StepKv.assertReadsBack(s, r.tokens, LAYOUT); // never poison, never another request's K/V
            for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                int w = s.written(l);
                if (w < s.length()) {
                    int layer = l;
                    assertThrows(IllegalStateException.class, () -> s.readKey(layer, 0, w, out, 0), "read past the mark");
                }
            }
            for (int b = 0; b < s.blockCount(); b++) {
                named.merge(s.blockId(b), 1, Integer::sum);
            }
        }
        if (sys.hog != null) {
            assertEquals(m.hogBlocks, sys.hog.blockCount());
            for (int b = 0; b < sys.hog.blockCount(); b++) {
                named.merge(sys.hog.blockId(b), 1, Integer::sum);
            }
        }
        for (Map.Entry<Integer, Integer> e : named.entrySet()) {
            int extra = sys.cache.pool().refCount(e.getKey()) - e.getValue();
            assertTrue(extra == 0 || extra == 1, "block " + e.getKey() + ": refCount = tables naming it (+1 if indexed), "
                    + "was " + extra + " more");
        }
        CacheStats st = sys.cache.stats();
        assertEquals(named.size(), st.usedBlocks(), "the blocks in use are exactly those some table names");
        assertEquals(st.totalBlocks(), st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation");
        assertTrue(m.realExhaustions >= 1 && m.injectedExhaustions >= 1 && m.chunkFaults >= 1,
                "every run reached pool exhaustion, an allocation fault and a chunk-commit fault");
        poisonFreeBlocks(sys);
    }

    /** Fills every free block with {@link #POISON} through a plain sequence, which then gives them back. */
    static void poisonFreeBlocks(Sys sys) {
        int free = sys.cache.freeBlocks();
        if (free == 0) {
            return;
        }
        Sequence p = sys.cache.openSequence();
        assertTrue(p.tryAppend(free * BS), "free blocks are allocatable");
        float[] poison = new float[LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim()];
        Arrays.fill(poison, POISON);
        for (int pos = 0; pos < free * BS; pos++) {
            for (int l = 0; l < LAYOUT.shape().layers(); l++) {
                p.write(l, pos, poison, poison);
            }
        }
        p.close();
        assertEquals(free, sys.cache.freeBlocks());
    }

    @Test
    void theStepApiKeepsConservationAndNeverCommitsOrReadsAnUnwrittenSlotThroughExhaustionFaultsAndCrashes() {
        REACHED.clear();
        Stateful.of(new Machine()).steps(60).tries(60).check();
        for (String path : List.of("a planned step", "a copy-on-write pair", "schedule refused by an allocation fault",
                "schedule refused by an exhausted pool", "a worker crash", "preemption keeping written blocks",
                "admission with a prefix hit", "re-admission with a prefix hit")) {
            assertTrue(REACHED.getOrDefault(path, 0) > 0, "never reached: " + path + " (reached: " + REACHED + ")");
        }
    }
}
