package io.pagedkv.eviction.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.eviction.BudgetedPolicy;
import io.pagedkv.eviction.EvictionPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Plays an engine against one policy, in the library's step order (evict, then place), and checks
 * every invariant of the {@link EvictionPolicy} contract after every operation against a plain model
 * (slot to position map, append order).
 *
 * <p>A program is a list of op codes: {@code op % 6} is 0-2 a decode step ({@code evict(1)}, place,
 * keys and values of {@value #LAYERS} layers x {@value #KV_HEADS} KV heads, queries and attention
 * rows of {@value #LAYERS} x {@value #QUERY_HEADS} query heads), 3 a prompt token placed with no
 * eviction (keys, values and rows too), 4 a compression ({@code evict(0)} then tail-fill compaction)
 * or, for odd {@code op / 6}, a prompt chunk under the budget ({@code evict(maxIncoming())}, which must
 * not throw, then that many tokens placed and one observation),
 * 5 a fork: the first one copies the policy and runs the rest of the program on the copy first, then
 * the original must make exactly the same decisions on the same future. The rest of the code seeds
 * the step's random weights, keys, values and queries, so a shrunk program is still a valid one.
 */
public final class PolicyDriver {

    /** Layers the driver feeds. */
    public static final int LAYERS = 2;
    /** KV heads per layer the driver feeds. */
    public static final int KV_HEADS = 2;
    /** Query heads per layer the driver feeds. */
    public static final int QUERY_HEADS = 4;
    /** Head dim of the driver's keys, values and queries. */
    public static final int HEAD_DIM = 8;

    private final EvictionPolicy policy;
    private final int[] posOfSlot;
    private final List<Integer> appendOrder;
    private final int[] victims;
    private final float[] row;
    private final float[] vec = new float[HEAD_DIM];
    private int slotTop;
    private int nextPosition;
    private final int[] freeSlots;
    private int freeCount;
    private final List<String> log;
    private final List<String> decisions = new ArrayList<>();
    private boolean forked;

    /** A driver for {@code policy} able to run up to {@code maxTokens} appends. */
    public PolicyDriver(EvictionPolicy policy, int maxTokens) {
        this.policy = policy;
        this.posOfSlot = new int[maxTokens];
        Arrays.fill(posOfSlot, -1);
        this.victims = new int[maxTokens];
        this.row = new float[maxTokens];
        this.freeSlots = new int[maxTokens];
        this.appendOrder = new ArrayList<>();
        this.log = new ArrayList<>();
    }

    private PolicyDriver(PolicyDriver parent, EvictionPolicy copy) {
        this.policy = copy;
        this.posOfSlot = parent.posOfSlot.clone();
        this.appendOrder = new ArrayList<>(parent.appendOrder);
        this.victims = new int[parent.victims.length];
        this.row = new float[parent.row.length];
        this.slotTop = parent.slotTop;
        this.nextPosition = parent.nextPosition;
        this.freeSlots = parent.freeSlots.clone();
        this.freeCount = parent.freeCount;
        this.log = new ArrayList<>();
        this.forked = true;
    }

    /** Runs the program, asserting the invariants after every step. */
    public void run(List<Integer> program) {
        run(program, 0);
        // Drain: the bound must hold after a final compression whatever the program did.
        compress();
        checkInvariants();
    }

    private void run(List<Integer> program, int from) {
        for (int i = from; i < program.size() && nextPosition < posOfSlot.length; i++) {
            int op = program.get(i);
            int kind = Math.floorMod(op, 6);
            SplittableRandom rnd = new SplittableRandom(op * 31L + i);
            switch (kind) {
                case 3 -> {
                    place(rnd, false);
                    observe(rnd);
                }
                case 4 -> {
                    if ((op / 6) % 2 == 0) {
                        compress();
                    } else {
                        chunk(rnd);
                    }
                }
                case 5 -> {
                    if (fork(program, i + 1)) {
                        return; // the rest of the program ran inside the fork
                    }
                }
                default -> {
                    place(rnd, true);
                    observe(rnd);
                }
            }
            checkInvariants();
        }
    }

    /** Steps taken, for failure messages. */
    public List<String> log() {
        return log;
    }

    /** The live positions in append order (the model's view). */
    public List<Integer> livePositions() {
        return List.copyOf(appendOrder);
    }

    private boolean fork(List<Integer> program, int next) {
        if (forked) {
            log.add("fork (ignored: one per program)");
            return false;
        }
        forked = true;
        EvictionPolicy copy = policy.copy();
        assertEquals(policy.liveTokens(), copy.liveTokens(), "a copy keeps the live tokens");
        assertEquals(policy.appended(), copy.appended(), "a copy keeps the context");
        PolicyDriver child = new PolicyDriver(this, copy);
        child.run(program, next);
        int mark = decisions.size();
        run(program, next);
        List<String> mine = decisions.subList(mark, decisions.size());
        assertEquals(child.decisions, mine, "a copy must decide exactly as the original on the same future"
                + " (child log " + child.log + ")");
        log.add("fork: copy made the same " + child.decisions.size() + " decisions");
        return true;
    }

    private void place(SplittableRandom rnd, boolean evictFirst) {
        if (evictFirst) {
            evict(1);
        }
        int slot = freeCount > 0 ? freeSlots[--freeCount] : slotTop++;
        int pos = nextPosition++;
        policy.onAppend(slot, pos);
        posOfSlot[slot] = pos;
        appendOrder.add(pos);
        log.add((evictFirst ? "decode" : "prompt") + " slot=" + slot + " pos=" + pos);
        for (int l = 0; l < LAYERS; l++) {
            for (int h = 0; h < KV_HEADS; h++) {
                if (policy.usesKeys()) {
                    fill(rnd);
                    policy.onKey(l, h, slot, vec, 0, HEAD_DIM);
                }
                if (policy.usesValues()) {
                    fill(rnd);
                    policy.onValue(l, h, slot, vec, 0, HEAD_DIM);
                }
            }
        }
    }

    /** A prompt chunk under the budget: {@code maxIncoming()} tokens must fit after one eviction. */
    private void chunk(SplittableRandom rnd) {
        int most = policy.maxIncoming();
        assertTrue(most >= 1, "maxIncoming: " + most + " (expected: >= 1, a decode step always fits)");
        int n = Math.min(most, posOfSlot.length - nextPosition);
        if (n <= 0) {
            return;
        }
        log.add("chunk of " + n + " (maxIncoming " + most + ")");
        evict(n); // asserts the budget bound with n incoming; throws if maxIncoming promised too much
        for (int i = 0; i < n; i++) {
            place(rnd, false);
        }
        observe(rnd);
    }

    private void fill(SplittableRandom rnd) {
        for (int k = 0; k < HEAD_DIM; k++) {
            vec[k] = (float) rnd.nextGaussian();
        }
    }

    private void observe(SplittableRandom rnd) {
        for (int l = 0; l < LAYERS; l++) {
            for (int h = 0; h < QUERY_HEADS; h++) {
                if (policy.usesQueries()) {
                    fill(rnd);
                    policy.onQuery(l, h, vec, 0, HEAD_DIM);
                }
                if (policy.usesAttention()) {
                    double sum = 0;
                    for (int s = 0; s < slotTop; s++) {
                        // Coarse weights so ties happen and the tie rule is exercised; holes carry
                        // garbage the policy must ignore.
                        row[s] = posOfSlot[s] >= 0 ? rnd.nextInt(4) : 7f;
                        sum += posOfSlot[s] >= 0 ? row[s] : 0;
                    }
                    for (int s = 0; s < slotTop && sum > 0; s++) {
                        if (posOfSlot[s] >= 0) {
                            row[s] = (float) (row[s] / sum);
                        }
                    }
                    policy.onAttention(l, h, row, 0, slotTop);
                }
            }
        }
    }

    private void evict(int incoming) {
        int pending = policy.pendingEvictions(incoming);
        int liveBefore = policy.liveTokens();
        int budget = policy.budget().tokensAt(policy.appended() + incoming);
        if (pending > 0) {
            int[] small = new int[pending - 1];
            assertThrows(IllegalArgumentException.class, () -> policy.evict(incoming, small),
                    "evict with a buffer one short must refuse");
            assertEquals(liveBefore, policy.liveTokens(), "a refused evict must leave the policy as it was");
            assertEquals(pending, policy.pendingEvictions(incoming), "a refused evict must leave the policy as it was");
        }
        int n = policy.evict(incoming, victims);
        assertEquals(pending, n, "evict returned a different count than pendingEvictions said");
        assertEquals(0, n % policy.quantum(), "evictions come in whole quanta of " + policy.quantum());
        assertTrue(policy.liveTokens() + incoming <= budget, "budget bound: live " + policy.liveTokens() + " + incoming "
                + incoming + " > budget " + budget + " (" + policy.budget() + " at context " + (policy.appended() + incoming) + ")");
        long excess = (long) liveBefore + incoming - budget;
        assertTrue(n < Math.max(0, excess) + policy.quantum(), "evicted " + n + " for an excess of " + excess
                + ": more than a quantum " + policy.quantum() + " beyond what the budget needs");
        boolean[] seen = new boolean[slotTop];
        StringBuilder d = new StringBuilder("evict(" + incoming + "):");
        for (int i = 0; i < n; i++) {
            int slot = victims[i];
            assertTrue(slot >= 0 && slot < slotTop && posOfSlot[slot] >= 0, "victim slot " + slot + " was not live");
            assertFalse(seen[slot], "victim slot " + slot + " returned twice");
            seen[slot] = true;
            assertFalse(policy.isLive(slot), "victim slot " + slot + " still live");
            assertEquals(-1, policy.positionOf(slot), "victim slot " + slot + " still has a position");
            appendOrder.remove(Integer.valueOf(posOfSlot[slot]));
            d.append(' ').append(posOfSlot[slot]);
            posOfSlot[slot] = -1;
            freeSlots[freeCount++] = slot;
        }
        decisions.add(d.toString());
        log.add(d.toString());
    }

    private void compress() {
        evict(0);
        int live = policy.liveTokens();
        int hole = 0;
        int moves = 0;
        for (int from = slotTop - 1; from >= live; from--) {
            if (posOfSlot[from] < 0) {
                continue;
            }
            while (posOfSlot[hole] >= 0) {
                hole++;
            }
            policy.onMove(from, hole);
            posOfSlot[hole] = posOfSlot[from];
            posOfSlot[from] = -1;
            moves++;
        }
        slotTop = live;
        freeCount = 0;
        log.add("compact moves=" + moves);
    }

    private void checkInvariants() {
        int live = 0;
        for (int s = 0; s < slotTop; s++) {
            if (posOfSlot[s] >= 0) {
                live++;
                assertTrue(policy.isLive(s), "slot " + s + " holds position " + posOfSlot[s] + " but the policy lost it");
                assertEquals(posOfSlot[s], policy.positionOf(s), "position of slot " + s);
            } else {
                assertFalse(policy.isLive(s), "slot " + s + " is free but the policy says live");
            }
        }
        assertEquals(live, policy.liveTokens(), "live tokens");
        assertEquals(nextPosition, policy.appended(), "tokens appended since reset");
        int[] listed = new int[Math.max(1, live)];
        assertEquals(live, policy.liveSlots(listed), "liveSlots count");
        for (int i = 0; i < live; i++) {
            assertTrue(posOfSlot[listed[i]] >= 0, "liveSlots listed free slot " + listed[i]);
        }
        if (policy instanceof BudgetedPolicy b) {
            int appended = nextPosition;
            for (int p = 0; p < Math.min(b.sinks(), appended); p++) {
                assertTrue(appendOrder.contains(p), "sink position " + p + " was evicted");
            }
            for (int p = Math.max(0, appended - b.recent()); p < appended; p++) {
                assertTrue(appendOrder.contains(p), "recent position " + p + " was evicted (appended " + appended + ")");
            }
        }
    }
}
