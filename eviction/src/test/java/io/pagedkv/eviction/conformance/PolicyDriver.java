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
 * Plays an engine against one policy and checks every invariant of the {@link EvictionPolicy}
 * contract after every operation, against a plain model (slot to position map, append order).
 *
 * <p>A program is a list of op codes: {@code op % 5} is 0-2 a decode step (append, keys, attention,
 * evict), 3 a burst append without eviction, 4 a tail-fill compaction; the rest of the code seeds the
 * step's random weights and keys, so a shrunk program is still a valid one.
 */
public final class PolicyDriver {

    private final EvictionPolicy policy;
    private final int[] posOfSlot;
    private final List<Integer> appendOrder = new ArrayList<>();
    private final int[] victims;
    private final float[] row;
    private final float[] key = new float[8];
    private int slotTop;
    private int nextPosition;
    private final int[] freeSlots;
    private int freeCount;
    private final List<String> log = new ArrayList<>();

    /** A driver for {@code policy} able to run up to {@code maxTokens} appends. */
    public PolicyDriver(EvictionPolicy policy, int maxTokens) {
        this.policy = policy;
        this.posOfSlot = new int[maxTokens];
        Arrays.fill(posOfSlot, -1);
        this.victims = new int[maxTokens];
        this.row = new float[maxTokens];
        this.freeSlots = new int[maxTokens];
    }

    /** Runs the program, asserting the invariants after every step. */
    public void run(List<Integer> program) {
        for (int i = 0; i < program.size() && nextPosition < posOfSlot.length; i++) {
            int op = program.get(i);
            int kind = Math.floorMod(op, 5);
            SplittableRandom rnd = new SplittableRandom(op * 31L + i);
            if (kind == 4) {
                compact();
            } else {
                append(rnd);
                if (kind != 3) {
                    attend(rnd);
                    evict();
                }
            }
            checkInvariants();
        }
        // Drain: the bound must hold after a final eviction whatever the program did.
        evict();
        checkInvariants();
    }

    /** Steps taken, for failure messages. */
    public List<String> log() {
        return log;
    }

    private void append(SplittableRandom rnd) {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : slotTop++;
        int pos = nextPosition++;
        policy.onAppend(slot, pos);
        posOfSlot[slot] = pos;
        appendOrder.add(pos);
        log.add("append slot=" + slot + " pos=" + pos);
        if (policy.usesKeys()) {
            for (int h = 0; h < 2; h++) {
                for (int k = 0; k < key.length; k++) {
                    key[k] = (float) rnd.nextGaussian();
                }
                policy.onKey(slot, key, 0, key.length);
            }
        }
    }

    private void attend(SplittableRandom rnd) {
        if (!policy.usesAttention()) {
            return;
        }
        double sum = 0;
        for (int s = 0; s < slotTop; s++) {
            // Coarse weights so ties happen and the tie rule is exercised.
            row[s] = posOfSlot[s] >= 0 ? rnd.nextInt(4) : 0f;
            sum += row[s];
        }
        for (int s = 0; s < slotTop && sum > 0; s++) {
            row[s] = (float) (row[s] / sum);
        }
        policy.onAttention(row, slotTop);
    }

    private void evict() {
        int pending = policy.pendingEvictions();
        int liveBefore = policy.liveTokens();
        if (pending > 0) {
            int[] small = new int[pending - 1];
            assertThrows(IllegalArgumentException.class, () -> policy.evict(small),
                    "evict with a buffer one short must refuse");
            assertEquals(liveBefore, policy.liveTokens(), "a refused evict must leave the policy as it was");
        }
        int n = policy.evict(victims);
        assertEquals(pending, n, "evict returned a different count than pendingEvictions said");
        boolean[] seen = new boolean[slotTop];
        for (int i = 0; i < n; i++) {
            int slot = victims[i];
            assertTrue(slot >= 0 && slot < slotTop && posOfSlot[slot] >= 0, "victim slot " + slot + " was not live");
            assertFalse(seen[slot], "victim slot " + slot + " returned twice");
            seen[slot] = true;
            assertFalse(policy.isLive(slot), "victim slot " + slot + " still live");
            assertEquals(-1, policy.positionOf(slot), "victim slot " + slot + " still has a position");
            appendOrder.remove(Integer.valueOf(posOfSlot[slot]));
            posOfSlot[slot] = -1;
            freeSlots[freeCount++] = slot;
        }
        log.add("evict " + n);
    }

    private void compact() {
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
        int[] listed = new int[Math.max(1, live)];
        assertEquals(live, policy.liveSlots(listed), "liveSlots count");
        for (int i = 0; i < live; i++) {
            assertTrue(posOfSlot[listed[i]] >= 0, "liveSlots listed free slot " + listed[i]);
        }
        if (policy.pendingEvictions() == 0) {
            assertTrue(live <= policy.budget() + policy.quantum() - 1,
                    "budget bound: live " + live + " > budget " + policy.budget() + " + quantum " + policy.quantum() + " - 1");
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

    /** The live positions in append order (the model's view). */
    public List<Integer> livePositions() {
        return List.copyOf(appendOrder);
    }
}
