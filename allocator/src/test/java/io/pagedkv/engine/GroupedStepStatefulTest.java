package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedKvCache;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Layer groups through the step API, against a model: a Gemma-2-style two-group cache (a sliding
 * group over a {@value #WINDOW}-token window and a global group, 4 layers alternating) of
 * {@value #BLOCKS} blocks of {@value #BS} tokens under a {@link GroupedStepPlanner}. Commands: admit
 * (prompts from three bases sharing prefixes; a yes is followed at once by the prompt's prefill,
 * which must be scheduled), a step (every running request's next 1..3 tokens, scheduled all or
 * nothing, planned, written <em>through each group's slot mapping</em> into the plan's writable
 * blocks, marked, completed), fork, preempt, re-admit a preempted request, release.
 *
 * <p>After every step:
 * <ul>
 *   <li>conservation per group: the distinct blocks named by group {@code g}'s tables are exactly
 *       {@code usedBlocks(g)}, no block in both groups, {@code free + sum(used(g) + cached(g)) == total};</li>
 *   <li>the sliding bound: every running request's sliding group holds at most
 *       {@code ceil(window / blockSize) + 1} blocks, exactly those from the first block the next
 *       token's window touches; the global group holds {@code ceil(length / blockSize)};</li>
 *   <li><b>no unwritten slot is ever committed or read</b>: every free block is poisoned, and every
 *       running request reads back, in every layer from its group's first held position up to its
 *       written mark, exactly the K/V the model computes for its tokens (which depend on the whole
 *       token prefix and the layer, so a wrong-group, wrong-prefix or unwritten hit shows);</li>
 *   <li>a refused admission or schedule changes nothing (tables, free, cached, used per group).</li>
 * </ul>
 * Inside a step, every plan row's slot mapping agrees with its block-table matrix, the matrix is
 * {@code PAD} below the sliding group's first held position, and every copy-on-write pair's target
 * is a block of a row of the step.
 */
class GroupedStepStatefulTest {

    static final int WINDOW = 7;
    static final int BS = 2;
    static final int BLOCKS = 20;
    static final int WATERMARK = 1;
    static final int MAX_TOKENS = 14;
    static final int MAX_RUNNING = 4;
    static final float POISON = 1000f;
    static final ModelShape SHAPE = new ModelShape("two-group", 4, 2, 1, 2, WINDOW,
            AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    static final CacheLayout MODEL = new CacheLayout(SHAPE, KvDType.F32, BS);
    static final LayerGroups GROUPS = LayerGroups.of(SHAPE);
    static final CacheLayout GROUP = GROUPS.groupLayout(MODEL);
    static final int SLIDING = 0;
    static final int GLOBAL = 1;
    static final int[][] BASES = new int[3][MAX_TOKENS];

    static {
        for (int i = 0; i < MAX_TOKENS; i++) {
            BASES[0][i] = 1 + i;
            BASES[1][i] = i < 6 ? 1 + i : 90 + i; // shares 6 tokens (3 blocks) with base 0
            BASES[2][i] = 40 + i;
        }
    }

    static final Map<String, Integer> REACHED = new ConcurrentHashMap<>();
    static final String RAREST = "a hit the sliding group's chain from block 0 could not give";
    /** The paths every run of the state machine test must reach. */
    static final List<String> PATHS = List.of("a planned step", "a copy-on-write pair",
            "schedule refused by an exhausted pool", "admission refused", "an exhausted pool", "a preemption",
            "a window release", "admission with a prefix hit", "re-admission with a prefix hit", "a worker crash",
            "a preempted request's written blocks hit at re-admission", RAREST,
            "a preempted request whose sliding group had released blocks keeps its hit");

    static void reached(String path) {
        REACHED.merge(path, 1, Integer::sum);
    }

    /** K or V element {@code j} of head {@code h} in model layer {@code layer} at {@code p}: a function of the whole prefix. */
    static float kv(List<Integer> tokens, int p, int layer, int kv, int h, int j) {
        int salt = Math.floorMod(tokens.subList(0, p + 1).hashCode(), 997);
        return salt * 16 + layer * 4 + kv * 2 + h + j / 8f;
    }

    static final class Req {
        final int id;
        final List<Integer> tokens = new ArrayList<>();
        int computed;
        /** A worker crashed in its last step: its tail is reserved but not written; only preempt or release. */
        boolean broken;
        /** Where a crashed row's every-layer mark stays. */
        int brokenAt;
        final int salt;

        Req(int id, int salt) {
            this.id = id;
            this.salt = salt;
        }

        /** The id generated at position {@code n}. */
        int generated(int n) {
            return 200 + Math.floorMod(salt * 31 + n * 7, 50);
        }
    }

    static final class Model {
        final List<Req> running = new ArrayList<>();
        final List<Req> preempted = new ArrayList<>();
        int nextId;
    }

    static final class Sys {
        final GroupedKvCache cache = new GroupedKvCache(MODEL, GROUPS, BLOCKS);
        final GroupedStepPlanner planner = new GroupedStepPlanner(cache, WATERMARK);
        final Map<Integer, GroupedStepSequence> seqs = new HashMap<>();
    }

    /** What a refusal must leave as it was. */
    record Snapshot(int free, int cached, List<Integer> used, Map<Integer, String> tables) {
        static Snapshot of(Sys sys) {
            List<Integer> used = new ArrayList<>();
            for (int g = 0; g < GROUPS.groupCount(); g++) {
                used.add(sys.cache.usedBlocks(g));
            }
            Map<Integer, String> tables = new HashMap<>();
            for (var e : sys.seqs.entrySet()) {
                StringBuilder b = new StringBuilder().append(e.getValue().length());
                for (int g = 0; g < GROUPS.groupCount(); g++) {
                    b.append(" g").append(g).append('@').append(e.getValue().firstPosition(g)).append(':');
                    for (int i = 0; i < e.getValue().blockCount(g); i++) {
                        b.append(e.getValue().blockId(g, i)).append(',');
                    }
                }
                tables.put(e.getKey(), b.toString());
            }
            return new Snapshot(sys.cache.freeBlocks(), sys.cache.cachedBlocks(), used, tables);
        }
    }

    /**
     * Schedules {@code count} new (generated) tokens of every request, plans, writes every layer through each group's slot mapping, completes. A refused
     * schedule must change nothing.
     *
     * @return how many were scheduled
     */
    static int step(Sys sys, List<Req> reqs, int tokens, boolean crash) {
        List<Req> rows = new ArrayList<>();
        for (Req r : reqs) {
            if (r.broken) {
                GroupedStepSequence b = sys.seqs.get(r.id);
                int[] ids = new int[MAX_TOKENS + 1];
                assertThrows(IllegalStateException.class, () -> sys.planner.schedule(b, ids, b.length(), 1),
                        "a row with an unwritten tail cannot be scheduled");
                continue;
            }
            int count = Math.min(tokens, MAX_TOKENS - r.tokens.size());
            if (count <= 0) {
                continue;
            }
            int[] ids = new int[r.tokens.size() + count];
            for (int t = 0; t < r.tokens.size(); t++) {
                ids[t] = r.tokens.get(t);
            }
            List<Integer> grown = new ArrayList<>(r.tokens);
            for (int t = r.tokens.size(); t < ids.length; t++) {
                ids[t] = r.generated(t);
                grown.add(ids[t]);
            }
            Snapshot before = Snapshot.of(sys);
            GroupedStepSequence s = sys.seqs.get(r.id);
            if (!sys.planner.schedule(s, ids, r.tokens.size(), count)) {
                reached("schedule refused by an exhausted pool");
                assertEquals(before, Snapshot.of(sys), "a refused schedule changes nothing");
                continue;
            }
            r.tokens.clear();
            r.tokens.addAll(grown);
            rows.add(r);
        }
        if (rows.isEmpty()) {
            return 0;
        }
        GroupedStepPlan plan = sys.planner.plan();
        reached("a planned step");
        assertEquals(rows.size(), plan.rows());
        int w = plan.blockTableWidth();
        int crashed = crash ? plan.rows() - 1 : -1;
        for (int row = 0; row < plan.rows(); row++) {
            Req r = rows.get(row);
            assertEquals(r.id, idOf(sys, plan.sequence(row)));
            int start = plan.contextLength(row);
            int count = plan.queryLength(row);
            int q = plan.queryStart(row);
            for (int g = 0; g < GROUPS.groupCount(); g++) {
                int[] table = plan.blockTables(g);
                int firstBlock = plan.firstPosition(row, g) / BS;
                for (int i = 0; i < w; i++) {
                    boolean held = i >= firstBlock && i < (plan.seqLen(row) + BS - 1) / BS;
                    assertEquals(held, table[row * w + i] != StepPlan.PAD, "row " + row + " group " + g + " column " + i);
                }
                assertEquals(plan.slotMapping(g)[q], plan.slotMappingSegment(g).getAtIndex(ValueLayout.JAVA_INT, q));
                for (int i = 0; i < count; i++) {
                    int pos = start + i;
                    int slot = plan.slotMapping(g)[q + i];
                    assertEquals(table[row * w + pos / BS], slot / BS, "slot mapping agrees with the block table");
                    assertEquals(pos % BS, slot % BS);
                }
            }
            for (int l = 0; l < SHAPE.layers(); l++) {
                int g = GROUPS.groupOf(l);
                int lg = GROUPS.layerInGroup(l);
                int n = row == crashed && l == SHAPE.layers() - 1 ? count / 2 : count; // the worker dies half way
                r.brokenAt = start + count / 2;
                for (int i = 0; i < n; i++) {
                    int pos = start + i;
                    int slot = plan.slotMapping(g)[q + i];
                    MemorySegment block = plan.writableBlock(row, g, pos / BS);
                    assertEquals(sys.cache.pool().block(slot / BS).address(), block.address(),
                            "the writable block is the slot mapping's");
                    for (int kvi = 0; kvi < 2; kvi++) {
                        for (int h = 0; h < SHAPE.kvHeads(); h++) {
                            for (int j = 0; j < SHAPE.headDim(); j++) {
                                block.set(F32, GROUP.offset(lg, kvi, h, slot % BS) + 4L * j, kv(r.tokens, pos, l, kvi, h, j));
                            }
                        }
                    }
                }
                assertEquals(start, plan.readableTokens(row, l), "nothing new readable before the mark moves");
                GroupedStepSequence s = plan.sequence(row);
                int layer = l;
                assertThrows(IllegalStateException.class, () -> s.readKey(layer, 0, start, new float[SHAPE.headDim()], 0),
                        "a read at the mark (written, not yet marked) is refused");
                plan.markWritten(row, l, n);
                assertEquals(start + n, plan.readableTokens(row, l));
            }
        }
        for (int g = 0; g < GROUPS.groupCount(); g++) {
            for (int c = 0; c < plan.copies(g); c++) {
                reached("a copy-on-write pair");
                int to = plan.copyPairs(g)[2 * c + 1];
                boolean inStep = false;
                for (int i = 0; i < plan.rows() * w; i++) {
                    inStep |= plan.blockTables(g)[i] == to;
                }
                assertTrue(inStep, "copy target " + to + " of group " + g + " is a block of the step");
            }
        }
        assertEquals(rows.size() - (crash ? 1 : 0), sys.planner.complete(plan));
        for (Req r : rows) {
            r.computed = r.tokens.size();
            if (crash && r == rows.get(rows.size() - 1)) {
                reached("a worker crash");
                r.broken = true;
                r.computed = r.brokenAt;
            }
            if (sys.seqs.get(r.id).firstPosition(SLIDING) > 0) {
                reached("a window release");
            }
        }
        return rows.size();
    }

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static int idOf(Sys sys, GroupedStepSequence s) {
        for (var e : sys.seqs.entrySet()) {
            if (e.getValue() == s) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Admits {@code r} for its tokens (or the base's first {@code promptLength}), then prefills the rest; a yes must hold. */
    static void admitAndPrefill(Model m, Sys sys, Req r, int[] ids, int length, boolean readmit) {
        // what the sliding group's chain from block 0 alone would give (the rule before vLLM's hybrid one)
        int fromBlock0 = sys.cache.group(SLIDING).probePrefix(ids, length, PrefixKeys.NONE).tokens();
        Snapshot before = Snapshot.of(sys);
        AdmissionProbe probe = sys.planner.probe(ids, length, PrefixKeys.NONE);
        assertEquals(before, Snapshot.of(sys), "a probe changes nothing");
        GroupedStepSequence s = sys.planner.admit(ids, length, PrefixKeys.NONE);
        if (s == null) {
            reached("admission refused");
            assertTrue(!probe.fitsNow());
            assertEquals(before, Snapshot.of(sys), "a refused admission changes nothing");
            if (readmit) {
                m.preempted.add(r);
            }
            return;
        }
        assertTrue(probe.fitsNow());
        assertEquals(probe.cachedTokens(), s.cachedTokens(), "the open reuses what the probe said");
        if (s.cachedTokens() > 0) {
            reached(readmit ? "re-admission with a prefix hit" : "admission with a prefix hit");
        }
        int hitBlocks = s.cachedTokens() / BS;
        int windowFrom = Math.max(0, s.cachedTokens() - WINDOW + 1) / BS * BS;
        assertEquals(windowFrom, s.firstPosition(SLIDING), "the sliding group opens from the hit's window");
        assertEquals(hitBlocks - windowFrom / BS, s.blockCount(SLIDING), "the window's blocks of the hit, no more");
        assertEquals(hitBlocks, s.blockCount(GLOBAL), "every block of the hit in the global group");
        if (s.cachedTokens() > fromBlock0) {
            reached(RAREST);
        }
        r.tokens.clear();
        for (int i = 0; i < s.cachedTokens(); i++) {
            r.tokens.add(ids[i]);
        }
        r.computed = s.cachedTokens();
        r.broken = false;
        m.running.add(r);
        sys.seqs.put(r.id, s);
        assertEquals(1, stepWithIds(sys, r, ids, length - s.cachedTokens()),
                "an admission that said yes gets its whole prompt scheduled");
    }

    /** One row: schedules {@code ids[len .. len + count)} for {@code r}; a yes-admission's prefill. */
    static int stepWithIds(Sys sys, Req r, int[] ids, int count) {
        int len = r.tokens.size();
        GroupedStepSequence s = sys.seqs.get(r.id);
        if (!sys.planner.schedule(s, ids, len, count)) {
            return 0;
        }
        for (int i = 0; i < count; i++) {
            r.tokens.add(ids[len + i]);
        }
        GroupedStepPlan plan = sys.planner.plan();
        int start = plan.contextLength(0);
        int q = plan.queryStart(0);
        for (int l = 0; l < SHAPE.layers(); l++) {
            int g = GROUPS.groupOf(l);
            int lg = GROUPS.layerInGroup(l);
            for (int i = 0; i < count; i++) {
                int pos = start + i;
                int slot = plan.slotMapping(g)[q + i];
                MemorySegment block = plan.writableBlock(0, g, pos / BS);
                for (int kvi = 0; kvi < 2; kvi++) {
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        for (int j = 0; j < SHAPE.headDim(); j++) {
                            block.set(F32, GROUP.offset(lg, kvi, h, slot % BS) + 4L * j, kv(r.tokens, pos, l, kvi, h, j));
                        }
                    }
                }
            }
            plan.markWritten(0, l, count);
        }
        sys.planner.complete(plan);
        r.computed = r.tokens.size();
        return 1;
    }

    record Admit(int base, int length) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return m.running.size() < MAX_RUNNING;
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = new Req(m.nextId++, m.nextId * 17);
            admitAndPrefill(m, sys, r, Arrays.copyOf(BASES[base], length), length, false);
        }

        @Override
        public String toString() {
            return "admit(base " + base + ", " + length + " tokens)";
        }
    }

    record Step(int tokens, boolean crash) implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            step(sys, m.running, tokens, crash);
        }

        @Override
        public String toString() {
            return "step(" + tokens + " tokens each" + (crash ? ", the last row's worker crashes" : "") + ")";
        }
    }

    record Fork(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.running.size() && m.running.size() < MAX_RUNNING;
        }

        @Override
        public void run(Model m, Sys sys) {
            Req parent = m.running.get(index);
            Req child = new Req(m.nextId++, m.nextId * 23);
            child.tokens.addAll(parent.tokens);
            child.computed = parent.computed;
            child.broken = parent.broken; // a fork of a crashed row shares its unwritten tail
            child.brokenAt = parent.brokenAt;
            m.running.add(child);
            sys.seqs.put(child.id, sys.planner.fork(sys.seqs.get(parent.id)));
        }

        @Override
        public String toString() {
            return "fork(running " + index + ")";
        }
    }

    record Preempt(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.running.size();
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = m.running.remove(index);
            GroupedStepSequence s = sys.seqs.remove(r.id);
            int heldFrom = s.firstPosition(SLIDING);
            sys.planner.preempt(s);
            assertEquals(StepSequence.State.PREEMPTED, s.state());
            reached("a preemption");
            r.broken = false; // re-admitted with every token it has (a crashed tail's ids are known too)
            int[] ids = r.tokens.stream().mapToInt(Integer::intValue).toArray();
            if (ids.length > 0) {
                int hit = sys.planner.probe(ids, ids.length, PrefixKeys.NONE).cachedTokens();
                int own = Math.min(r.computed, ids.length - 1) / BS * BS;
                if (Math.max(0, own - WINDOW + 1) / BS * BS >= heldFrom) {
                    // at least its own written full blocks, when the sliding group still held the blocks of the
                    // window of position `own` (vLLM's rule needs no more): a fork, or a request whose generated
                    // ids coincide, may have committed more of the same tokens (seed 8586332019112932055: 4 > 2)
                    assertTrue(hit >= own, "a preemption keeps every written full block of the global group and the"
                            + " window's of the sliding group: " + hit + " cached tokens < " + own + " written");
                    if (heldFrom > 0 && own > 0) {
                        reached("a preempted request whose sliding group had released blocks keeps its hit");
                    }
                }
                if (hit > 0) {
                    reached("a preempted request's written blocks hit at re-admission");
                }
            }
            m.preempted.add(r);
        }

        @Override
        public String toString() {
            return "preempt(running " + index + ")";
        }
    }

    record Readmit(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.preempted.size() && m.running.size() < MAX_RUNNING;
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = m.preempted.remove(index);
            int[] ids = r.tokens.stream().mapToInt(Integer::intValue).toArray();
            if (ids.length == 0) {
                return; // preempted before any token was written: nothing to recompute from
            }
            admitAndPrefill(m, sys, r, ids, ids.length, true);
        }

        @Override
        public String toString() {
            return "readmit(preempted " + index + ")";
        }
    }

    record Release(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return index < m.running.size();
        }

        @Override
        public void run(Model m, Sys sys) {
            Req r = m.running.remove(index);
            GroupedStepSequence s = sys.seqs.remove(r.id);
            sys.planner.release(s);
            assertEquals(StepSequence.State.CLOSED, s.state());
        }

        @Override
        public String toString() {
            return "release(running " + index + ")";
        }
    }

    record Machine() implements StateMachine<Model, Sys> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sys newSystem() {
            return new Sys();
        }

        @Override
        public Gen<Command<Model, Sys>> commands(Model m) {
            Gen<Command<Model, Sys>> admit = Gens.zip(Gens.ints(0, BASES.length - 1), Gens.ints(1, 11), Admit::new);
            Gen<Command<Model, Sys>> step = Gens.zip(Gens.ints(1, 3), Gens.frequency(4, Gens.constant(false), 1,
                    Gens.constant(true)), Step::new);
            Gen<Integer> running = Gens.ints(0, MAX_RUNNING - 1);
            Gen<Command<Model, Sys>> other = Gens.choose(running.map(Fork::new), running.map(Preempt::new),
                    running.map(Readmit::new), running.map(Release::new));
            return Gens.frequency(3, admit, 5, step, 3, other);
        }

        @Override
        public void invariants(Model m, Sys sys) {
            GroupedKvCache c = sys.cache;
            assertEquals(m.running.size(), sys.planner.running());
            List<Set<Integer>> held = List.of(new HashSet<>(), new HashSet<>());
            int bound = GROUPS.maxWindowBlocks(SLIDING, BS);
            float[] got = new float[SHAPE.headDim()];
            for (Req r : m.running) {
                GroupedStepSequence s = sys.seqs.get(r.id);
                int len = r.tokens.size();
                assertEquals(len, s.length());
                assertEquals(r.computed, s.writtenTokens(), "every reserved token is written between steps");
                assertEquals(-1, s.row());
                int first = Math.max(0, len - WINDOW + 1) / BS * BS;
                assertEquals(first, s.firstPosition(SLIDING), "first position the sliding group holds");
                assertEquals((len - first + BS - 1) / BS, s.blockCount(SLIDING));
                assertTrue(s.blockCount(SLIDING) <= bound, "sliding blocks " + s.blockCount(SLIDING)
                        + " > ceil(window / blockSize) + 1 = " + bound);
                assertEquals(0, s.firstPosition(GLOBAL));
                assertEquals((len + BS - 1) / BS, s.blockCount(GLOBAL));
                for (int g = 0; g < 2; g++) {
                    for (int i = 0; i < s.blockCount(g); i++) {
                        assertEquals(g, c.groupOfBlock(s.blockId(g, i)));
                        held.get(g).add(s.blockId(g, i));
                    }
                }
                for (int l = 0; l < SHAPE.layers(); l++) {
                    int g = GROUPS.groupOf(l);
                    int w = s.written(l);
                    for (int p = s.firstPosition(g); p < w; p++) {
                        for (int h = 0; h < SHAPE.kvHeads(); h++) {
                            float[] want = new float[SHAPE.headDim()];
                            for (int j = 0; j < want.length; j++) {
                                want[j] = kv(r.tokens, p, l, 0, h, j);
                            }
                            s.readKey(l, h, p, got, 0);
                            assertArrayEquals(want, got, "K of request " + r.id + " layer " + l + " position " + p);
                            for (int j = 0; j < want.length; j++) {
                                want[j] = kv(r.tokens, p, l, 1, h, j);
                            }
                            s.readValue(l, h, p, got, 0);
                            assertArrayEquals(want, got, "V of request " + r.id + " layer " + l + " position " + p);
                        }
                    }
                }
            }
            Set<Integer> both = new HashSet<>(held.get(0));
            both.retainAll(held.get(1));
            assertTrue(both.isEmpty(), "blocks in both groups: " + both);
            int sum = c.freeBlocks();
            for (int g = 0; g < 2; g++) {
                assertEquals(held.get(g).size(), c.usedBlocks(g), "the blocks group " + g + " uses are those its tables name");
                sum += c.usedBlocks(g) + c.cachedBlocks(g);
            }
            assertEquals(BLOCKS, sum, "free + used + cached over the groups");
            if (c.availableBlocks() == 0 || c.freeBlocks() == 0) {
                reached("an exhausted pool");
            }
            poisonFreeBlocks(sys);
        }

        @Override
        public void close(Sys sys) {
            sys.cache.close();
        }
    }

    /** Fills every free block with {@link #POISON} through a plain sequence of group 0, which gives them back. */
    static void poisonFreeBlocks(Sys sys) {
        int free = sys.cache.freeBlocks();
        if (free == 0) {
            return;
        }
        Sequence p = sys.cache.group(0).openSequence();
        assertTrue(p.tryAppend(free * BS), "free blocks are allocatable");
        float[] poison = new float[SHAPE.kvHeads() * SHAPE.headDim()];
        Arrays.fill(poison, POISON);
        for (int pos = 0; pos < free * BS; pos++) {
            for (int l = 0; l < GROUP.shape().layers(); l++) {
                p.write(l, pos, poison, poison);
            }
        }
        p.close();
        assertEquals(free, sys.cache.freeBlocks());
    }

    @Test
    void groupedStepPlanningConservesBlocksPerGroupBoundsTheWindowAndNeverCommitsOrReadsAnUnwrittenSlot() {
        REACHED.clear();
        Stateful.of(new Machine()).steps(60).tries(150).check();
        // The rarest path (a hit longer than the sliding group's chain from block 0 needs a long shared prompt
        // whose early sliding blocks were reclaimed while its window's stayed) is missed by about one run of
        // 150 cases in three: run more cases, each checked in full, until every path was reached or 7 runs
        // of 150 missed one (about 1 in 2,000 if the path is as reachable as measured).
        for (int more = 0; more < 6 && !REACHED.keySet().containsAll(PATHS); more++) {
            Stateful.of(new Machine()).steps(60).tries(150).check();
        }
        for (String path : PATHS) {
            assertTrue(REACHED.getOrDefault(path, 0) > 0, "never reached: " + path + " (reached: " + REACHED + ")");
        }
    }
}
