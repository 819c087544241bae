package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Issue 24 item 1: {@link EvictingSequence} on a pool of 5 blocks of 2 tokens (one block per lazily
 * reserved chunk, with a fault injector), against a plain model.
 *
 * <p>Every run starts at the edge: a root of 8 tokens (4 blocks) forked once (all 4 shared). While
 * the fifth block is still free, injected faults refuse each path that needs a block (issue 24 must
 * show 2): an append into a hole of a shared block whose copy's chunk cannot be reserved (out of
 * memory), an overwrite whose copy-on-write allocation fails, a compaction whose moves' copy-on-write
 * allocation fails. Then a "hog" sequence takes the fifth block, so the pool is empty, and the same
 * three paths are refused for real. Each refusal is checked to change nothing. Random steps follow:
 * appends, evictions, overwrites and compactions (each also with an allocation fault armed),
 * block releases, forks, closes, and the hog taking and giving back blocks, so later steps hit
 * exhaustion again and succeed when memory comes back. The model predicts from the blocks each step
 * needs (and the pool's free count) whether it succeeds, and whether an armed fault fires (exactly
 * when a block is needed and free); after every step each sequence's slots, positions and K/V equal
 * the model's, every block a table names has exactly that many references, and free + used = total.
 */
class EvictingSequenceExhaustionStatefulTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 1, 1, 2), KvDType.F32, 2);
    static final int BS = 2;
    static final int POOL = 5;
    static final int MAX_OPEN = 4;

    /** One evicting sequence as the model sees it. */
    static final class SeqModel {
        List<Integer> positionOfSlot = new ArrayList<>(); // -1 = hole
        List<Integer> holeStack = new ArrayList<>();      // top = last
        Map<Integer, Float> keyOf = new HashMap<>();      // kept position -> key[0]
        int nextPosition;

        SeqModel copy() {
            SeqModel m = new SeqModel();
            m.positionOfSlot = new ArrayList<>(positionOfSlot);
            m.holeStack = new ArrayList<>(holeStack);
            m.keyOf = new HashMap<>(keyOf);
            m.nextPosition = nextPosition;
            return m;
        }

        int live() {
            return keyOf.size();
        }
    }

    static final class Model {
        final List<SeqModel> seqs = new ArrayList<>();
        int hogTokens;
        int exhaustedAppends;
        int exhaustedWrites;
        int exhaustedCompactions;
        int faultedAppends;
        int faultedWrites;
        int faultedCompactions;
    }

    static final class Sys {
        final NthCallFaults faults = new NthCallFaults();
        final PagedKvCache cache = PagedKvCache.builder(LAYOUT, POOL).blocksPerChunk(1).faults(faults).build();
        final List<EvictingSequence> open = new ArrayList<>();
        Sequence hog;
    }

    static float[] kv(float key) {
        return new float[] {key, -key};
    }

    static float keyAt(EvictingSequence s, int position) {
        float[] k = new float[2];
        s.readKey(0, 0, position, k, 0);
        return k[0];
    }

    record Machine() implements StateMachine<Model, Sys> {
        @Override
        public Model initialModel() {
            Model m = new Model();
            SeqModel root = new SeqModel();
            for (int p = 0; p < 8; p++) {
                root.positionOfSlot.add(p);
                root.keyOf.put(p, (float) p);
            }
            root.nextPosition = 8;
            SeqModel fork = root.copy();
            m.hogTokens = 1;
            // the prologue's two evictions (slots 1 and 6); its three refused operations change nothing
            for (int slot : new int[] {1, 6}) {
                root.keyOf.remove(root.positionOfSlot.get(slot));
                root.positionOfSlot.set(slot, -1);
                root.holeStack.add(slot);
            }
            m.seqs.add(root);
            m.seqs.add(fork);
            m.exhaustedAppends = 1;
            m.exhaustedWrites = 1;
            m.exhaustedCompactions = 1;
            m.faultedAppends = 1;
            m.faultedWrites = 1;
            m.faultedCompactions = 1;
            return m;
        }

        @Override
        public Sys newSystem() {
            Sys sys = new Sys();
            EvictingSequence root = new EvictingSequence(sys.cache.openSequence());
            for (int p = 0; p < 8; p++) {
                root.write(0, root.append(p), kv(p), kv(p));
            }
            sys.open.add(root);
            sys.open.add(root.fork());
            assertEquals(1, sys.cache.freeBlocks(), "one block left, its chunk not reserved yet");
            root.evict(1);
            // faults while a block is free: the hole's shared block needs a copy whose chunk cannot be reserved
            sys.faults.failNthChunkCommit(1);
            assertEquals(EvictingSequence.NO_POSITION, root.tryAppend(99));
            assertEquals(1, sys.faults.injectedFailures(), "the chunk commit fault fired");
            // an overwrite of a shared block whose copy-on-write allocation fails
            sys.faults.failNthAllocation(1);
            assertThrows(PoolExhaustedException.class, () -> root.write(0, 2, kv(50), kv(50)));
            assertEquals(2, sys.faults.injectedFailures(), "the allocation fault fired on the copy-on-write");
            // a compaction whose move 7 -> 1 needs a copy-on-write of shared block 0
            root.evict(6);
            sys.faults.failNthAllocation(1);
            assertThrows(PoolExhaustedException.class, () -> root.compact((f, t) -> { }));
            assertEquals(3, sys.faults.injectedFailures(), "the allocation fault fired on the compaction");
            sys.faults.failNthAllocation(0);
            assertEquals(1, sys.cache.freeBlocks(), "no fault took the free block");
            check(initialModelWithoutHog(), sys);
            sys.hog = sys.cache.openSequence();
            sys.hog.append(1);
            assertEquals(0, sys.cache.freeBlocks(), "then the pool is empty");
            // exhaustion on the append path: the hole's block is shared, no block for its copy
            assertEquals(EvictingSequence.NO_POSITION, root.tryAppend(99));
            assertThrows(PoolExhaustedException.class, () -> root.append(99));
            // exhaustion on the copy-on-write path: an overwrite of a shared block
            assertThrows(PoolExhaustedException.class, () -> root.write(0, 2, kv(50), kv(50)));
            // exhaustion on the compaction path: the move 7 -> 1 writes into shared block 0
            assertThrows(PoolExhaustedException.class, () -> root.compact((f, t) -> { }));
            assertEquals(3, sys.faults.injectedFailures(), "an empty pool refuses without consulting the injector");
            return sys;
        }

        /** The model as the prologue leaves it before the hog takes the last block. */
        static Model initialModelWithoutHog() {
            Model m = new Machine().initialModel();
            m.hogTokens = 0;
            return m;
        }

        @Override
        public Gen<Command<Model, Sys>> commands(Model m) {
            Gen<Integer> any = Gens.ints(0, 1 << 16);
            Gen<Boolean> fault = Gens.frequency(3, Gens.constant(false), 1, Gens.constant(true));
            return Gens.frequency(3, Gens.zip(any, any, fault, Append::new),
                    2, Gens.choose(
                            Gens.zip(any, any, Evict::new),
                            Gens.zip(any, any, fault, Overwrite::new),
                            Gens.zip(any, fault, Compact::new),
                            any.map(Release::new)),
                    1, Gens.choose(
                            any.map(Fork::new),
                            any.map(Close::new),
                            Gens.constant(0).map(x -> new Hog()),
                            Gens.constant(0).map(x -> new Unhog())));
        }

        @Override
        public void invariants(Model m, Sys sys) {
            check(m, sys);
        }

        @Override
        public void close(Sys sys) {
            for (EvictingSequence s : sys.open) {
                s.close();
            }
            if (sys.hog != null) {
                sys.hog.close();
            }
            assertEquals(POOL, sys.cache.freeBlocks(), "every block back after closing everything");
            sys.cache.close();
        }
    }

    static int blockNeedsCopy(Sys sys, EvictingSequence s, int slot) {
        return sys.cache.pool().refCount(s.blockId(slot / BS)) > 1 ? 1 : 0;
    }

    /**
     * Arms an allocation fault if {@code fault}; runs {@code op}; disarms. Returns whether the fault
     * fired, which it must exactly when the step needs a block and one is free.
     */
    static boolean withFault(Sys sys, boolean fault, int need, Runnable op) {
        boolean blockFree = need > 0 && need <= sys.cache.freeBlocks();
        long before = sys.faults.injectedFailures();
        if (fault) {
            sys.faults.failNthAllocation(1);
        }
        try {
            op.run();
        } finally {
            sys.faults.failNthAllocation(0);
        }
        boolean fired = sys.faults.injectedFailures() > before;
        assertEquals(fault && blockFree, fired, "an armed fault fires exactly when a block is needed and free");
        return fired;
    }

    /** Append a token with id = seed to sequence (i mod open): a hole first, else the tail. */
    record Append(int index, int seed, boolean fault) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            SeqModel sm = m.seqs.get(i);
            EvictingSequence s = sys.open.get(i);
            int need;
            int slot;
            if (!sm.holeStack.isEmpty()) {
                slot = sm.holeStack.get(sm.holeStack.size() - 1);
                need = blockNeedsCopy(sys, s, slot);
            } else {
                slot = sm.positionOfSlot.size();
                need = slot % BS == 0 ? 1 : blockNeedsCopy(sys, s, slot);
            }
            boolean fits = need <= sys.cache.freeBlocks();
            int[] got = new int[1];
            boolean fired = withFault(sys, fault, need, () -> got[0] = s.tryAppend(seed));
            int p = got[0];
            assertEquals(fits && !fired, p != EvictingSequence.NO_POSITION, "append succeeds iff its " + need
                    + " block(s) are free" + (fired ? " and no fault fired" : ""));
            if (fired) {
                m.faultedAppends++;
                return;
            }
            if (!fits) {
                m.exhaustedAppends++;
                return;
            }
            assertEquals(sm.nextPosition, p);
            assertEquals(slot, s.slotOf(p), "hole first (the last one made), else the tail");
            // the block is writable now: the write takes no block, so it cannot fail for want of one
            s.write(0, p, kv(seed), kv(seed));
            if (!sm.holeStack.isEmpty()) {
                sm.holeStack.remove(sm.holeStack.size() - 1);
                sm.positionOfSlot.set(slot, p);
            } else {
                sm.positionOfSlot.add(p);
            }
            sm.keyOf.put(p, (float) seed);
            sm.nextPosition++;
        }

        @Override
        public String toString() {
            return "append(seq " + index + ", id " + seed + (fault ? ", fault armed" : "") + ")";
        }
    }

    record Evict(int index, int pick) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty() && m.seqs.get(index % m.seqs.size()).live() > 0;
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            SeqModel sm = m.seqs.get(i);
            List<Integer> liveSlots = new ArrayList<>();
            for (int s = 0; s < sm.positionOfSlot.size(); s++) {
                if (sm.positionOfSlot.get(s) >= 0) {
                    liveSlots.add(s);
                }
            }
            int slot = liveSlots.get(pick % liveSlots.size());
            sys.open.get(i).evict(slot);
            sm.keyOf.remove(sm.positionOfSlot.get(slot));
            sm.positionOfSlot.set(slot, -1);
            sm.holeStack.add(slot);
        }

        @Override
        public String toString() {
            return "evict(seq " + index + ", pick " + pick + ")";
        }
    }

    /** Overwrite a kept token's K/V: a copy-on-write if its block is shared. */
    record Overwrite(int index, int pick, boolean fault) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty() && m.seqs.get(index % m.seqs.size()).live() > 0;
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            SeqModel sm = m.seqs.get(i);
            EvictingSequence s = sys.open.get(i);
            List<Integer> kept = new ArrayList<>(sm.keyOf.keySet());
            kept.sort(null);
            int p = kept.get(pick % kept.size());
            int need = blockNeedsCopy(sys, s, s.slotOf(p));
            boolean fits = need <= sys.cache.freeBlocks();
            float key = 1000 + pick;
            boolean[] refused = new boolean[1];
            boolean fired = withFault(sys, fault, need, () -> {
                try {
                    s.write(0, p, kv(key), kv(key));
                } catch (PoolExhaustedException e) {
                    refused[0] = true;
                }
            });
            assertEquals(!fits || fired, refused[0], "an overwrite is refused iff its copy-on-write block is missing");
            if (fired) {
                m.faultedWrites++;
            } else if (fits) {
                sm.keyOf.put(p, key);
            } else {
                m.exhaustedWrites++;
            }
        }

        @Override
        public String toString() {
            return "overwrite(seq " + index + ", pick " + pick + (fault ? ", fault armed" : "") + ")";
        }
    }

    /** Tail-fill compaction: the model computes the moves itself and compares them with the listener's. */
    record Compact(int index, boolean fault) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            SeqModel sm = m.seqs.get(i);
            EvictingSequence s = sys.open.get(i);
            int live = sm.live();
            List<Integer> targetBlocks = new ArrayList<>();
            for (int slot = 0; slot < live; slot++) {
                if (sm.positionOfSlot.get(slot) < 0 && !targetBlocks.contains(slot / BS)) {
                    targetBlocks.add(slot / BS);
                }
            }
            int need = 0;
            for (int b : targetBlocks) {
                need += sys.cache.pool().refCount(s.blockId(b)) > 1 ? 1 : 0;
            }
            if (need > sys.cache.freeBlocks()) {
                assertThrows(PoolExhaustedException.class, () -> s.compact((f, t) -> { }));
                m.exhaustedCompactions++;
                return;
            }
            if (fault && need > 0) {
                withFault(sys, true, need, () -> assertThrows(PoolExhaustedException.class, () -> s.compact((f, t) -> { })));
                m.faultedCompactions++;
                return;
            }
            List<int[]> expected = new ArrayList<>();
            List<Integer> pos = new ArrayList<>(sm.positionOfSlot);
            int hole = 0;
            for (int from = pos.size() - 1; from >= live; from--) {
                if (pos.get(from) < 0) {
                    continue;
                }
                while (pos.get(hole) >= 0) {
                    hole++;
                }
                expected.add(new int[] {from, hole});
                pos.set(hole, pos.get(from));
                pos.set(from, -1);
            }
            List<int[]> got = new ArrayList<>();
            assertEquals(expected.size(), s.compact((f, t) -> got.add(new int[] {f, t})));
            assertEquals(expected.size(), got.size());
            for (int k = 0; k < got.size(); k++) {
                assertArrayEquals(expected.get(k), got.get(k), "move " + k);
            }
            sm.positionOfSlot = new ArrayList<>(pos.subList(0, live));
            sm.holeStack.clear();
        }

        @Override
        public String toString() {
            return "compact(seq " + index + (fault ? ", fault armed" : "") + ")";
        }
    }

    /** Release all-hole full blocks: no block is taken, so this never fails. */
    record Release(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            SeqModel sm = m.seqs.get(i);
            List<Integer> pos = sm.positionOfSlot;
            List<Integer> kept = new ArrayList<>();
            int released = 0;
            for (int start = 0; start < pos.size(); start += BS) {
                boolean full = start + BS <= pos.size();
                boolean allHoles = full;
                for (int s = start; s < Math.min(pos.size(), start + BS) && allHoles; s++) {
                    allHoles = pos.get(s) < 0;
                }
                if (allHoles) {
                    released++;
                } else {
                    kept.addAll(pos.subList(start, Math.min(pos.size(), start + BS)));
                }
            }
            assertEquals(released, sys.open.get(i).releaseEmptyBlocks((f, t) -> { }));
            sm.positionOfSlot = kept;
            if (released > 0) {
                sm.holeStack.clear();
                for (int s = kept.size() - 1; s >= 0; s--) {
                    if (kept.get(s) < 0) {
                        sm.holeStack.add(s);
                    }
                }
            }
        }

        @Override
        public String toString() {
            return "release(seq " + index + ")";
        }
    }

    record Fork(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty() && m.seqs.size() < MAX_OPEN;
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            sys.open.add(sys.open.get(i).fork());
            m.seqs.add(m.seqs.get(i).copy());
        }

        @Override
        public String toString() {
            return "fork(seq " + index + ")";
        }
    }

    record Close(int index) implements Command<Model, Sys> {
        @Override
        public boolean precondition(Model m) {
            return !m.seqs.isEmpty();
        }

        @Override
        public void run(Model m, Sys sys) {
            int i = index % m.seqs.size();
            sys.open.remove(i).close();
            m.seqs.remove(i);
            if (m.seqs.isEmpty()) {
                sys.open.add(new EvictingSequence(sys.cache.openSequence()));
                m.seqs.add(new SeqModel());
            }
        }

        @Override
        public String toString() {
            return "close(seq " + index + ")";
        }
    }

    /** The hog takes one more token (a block every second token) if the pool has room. */
    static final class Hog implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            boolean fits = m.hogTokens % BS != 0 || sys.cache.freeBlocks() > 0;
            if (sys.hog == null) {
                sys.hog = sys.cache.openSequence();
            }
            assertEquals(fits, sys.hog.tryAppend(1));
            if (fits) {
                m.hogTokens++;
            }
        }

        @Override
        public String toString() {
            return "hog()";
        }
    }

    /** The hog gives every block back. */
    static final class Unhog implements Command<Model, Sys> {
        @Override
        public void run(Model m, Sys sys) {
            if (sys.hog != null) {
                sys.hog.close();
                sys.hog = null;
            }
            m.hogTokens = 0;
        }

        @Override
        public String toString() {
            return "unhog()";
        }
    }

    static void check(Model m, Sys sys) {
        assertEquals(m.seqs.size(), sys.open.size());
        Map<Integer, Integer> namedBy = new HashMap<>();
        for (int i = 0; i < m.seqs.size(); i++) {
            SeqModel sm = m.seqs.get(i);
            EvictingSequence s = sys.open.get(i);
            assertEquals(sm.positionOfSlot.size(), s.slots(), "seq " + i + " slots");
            for (int slot = 0; slot < s.slots(); slot++) {
                assertEquals((int) sm.positionOfSlot.get(slot), s.positionOf(slot), "seq " + i + " slot " + slot);
            }
            assertEquals(sm.live(), s.liveTokens(), "seq " + i + " live tokens");
            assertEquals(sm.holeStack.size(), s.holes(), "seq " + i + " holes");
            assertEquals(sm.nextPosition, s.nextPosition(), "seq " + i + " next position");
            for (Map.Entry<Integer, Float> e : sm.keyOf.entrySet()) {
                assertEquals(e.getValue(), keyAt(s, e.getKey()), 0f, "seq " + i + " key of position " + e.getKey());
            }
            assertEquals((s.slots() + BS - 1) / BS, s.blockCount(), "seq " + i + " blocks cover the slots");
            for (int b = 0; b < s.blockCount(); b++) {
                namedBy.merge(s.blockId(b), 1, Integer::sum);
            }
        }
        if (sys.hog != null) {
            assertEquals(m.hogTokens, sys.hog.length());
            for (int b = 0; b < sys.hog.blockCount(); b++) {
                namedBy.merge(sys.hog.blockId(b), 1, Integer::sum);
            }
        }
        for (Map.Entry<Integer, Integer> e : namedBy.entrySet()) {
            assertEquals((int) e.getValue(), sys.cache.pool().refCount(e.getKey()),
                    "block " + e.getKey() + " references = tables naming it");
        }
        CacheStats st = sys.cache.stats();
        assertEquals(namedBy.size(), st.usedBlocks(), "used blocks = blocks some table names");
        assertEquals(st.totalBlocks(), st.freeBlocks() + st.usedBlocks() + st.cachedBlocks(), "conservation");
        assertTrue(m.exhaustedAppends >= 1 && m.exhaustedWrites >= 1 && m.exhaustedCompactions >= 1,
                "every run reached exhaustion on the append, copy-on-write and compaction paths: " + Arrays.asList(
                        m.exhaustedAppends, m.exhaustedWrites, m.exhaustedCompactions));
        assertTrue(m.faultedAppends >= 1 && m.faultedWrites >= 1 && m.faultedCompactions >= 1,
                "every run reached an injected fault on the append, copy-on-write and compaction paths: "
                        + Arrays.asList(m.faultedAppends, m.faultedWrites, m.faultedCompactions));
        assertEquals(m.faultedAppends + m.faultedWrites + m.faultedCompactions, sys.faults.injectedFailures(),
                "every fault that fired was counted by the model, and none fired elsewhere");
    }

    @Test
    void aTinyPoolRefusesAppendsCopyOnWritesAndCompactionsWholeAndTheStateAlwaysEqualsTheModel() {
        Stateful.of(new Machine()).steps(60).tries(80).check();
    }
}
