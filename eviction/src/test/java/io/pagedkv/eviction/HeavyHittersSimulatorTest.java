package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * H2O against a brute-force, step-by-step simulator over positions: same accumulation (over every
 * row of an observation, one count per observation), same tie rule (oldest first), evicted scores
 * discarded, in the library's step order (evict, then place), on small random traces with slot
 * reuse, prompt bursts, compaction and garbage weights on holes.
 */
class HeavyHittersSimulatorTest {

    /** The reference: a list of live positions with their float sums and counts, scanned in full. */
    static final class BruteForceH2o {
        final int budget;
        final int recent;
        final int quantum;
        final boolean norm;
        final List<Integer> live = new ArrayList<>();
        final float[] sum;
        final int[] seen;

        BruteForceH2o(int budget, int recent, int quantum, boolean norm, int maxTokens) {
            this.budget = budget;
            this.recent = recent;
            this.quantum = quantum;
            this.norm = norm;
            this.sum = new float[maxTokens];
            this.seen = new int[maxTokens];
        }

        void append(int pos) {
            live.add(pos);
        }

        void attend(float[] head0, float[] head1) {
            for (int p : live) {
                sum[p] += head0[p];
                sum[p] += head1[p];
                seen[p]++;
            }
        }

        float key(int p) {
            return norm ? (seen[p] == 0 ? 0f : sum[p] / seen[p]) : sum[p];
        }

        List<Integer> evict(int incoming) {
            List<Integer> out = new ArrayList<>();
            int excess = live.size() + incoming - budget;
            if (excess <= 0) {
                return out;
            }
            int count = (excess + quantum - 1) / quantum * quantum;
            for (int k = 0; k < count; k++) {
                int candidates = live.size() - recent; // live is in append order: the last `recent` are protected
                int best = -1;
                for (int i = 0; i < candidates; i++) {
                    int p = live.get(i);
                    if (best < 0 || key(p) < key(best) || (key(p) == key(best) && p < best)) {
                        best = p;
                    }
                }
                live.remove(Integer.valueOf(best));
                out.add(best);
            }
            return out;
        }
    }

    record Config(int recent, int extra, int quantum, boolean norm) {
        int budget() {
            return recent + quantum + extra;
        }
    }

    @Test
    void h2oEvictsExactlyWhatTheBruteForceSimulatorEvictsOnRandomTraces() {
        Property.forAll(Gens.zip(Gens.ints(0, 6), Gens.ints(0, 6), Gens.ints(1, 4), Gens.booleans(), Config::new),
                Gens.lists(Gens.ints(0, 1 << 16), 1, 80)).check((c, program) ->
                        compare(c.budget(), c.recent(), c.quantum(), c.norm(), program));
    }

    /**
     * Replays one trace: program element i drives step i (its value seeds the step's weights; a
     * multiple of 4 places a prompt token with no eviction; a multiple of 3 compacts after evicting).
     */
    private static void compare(int budget, int recent, int quantum, boolean norm, List<Integer> program) {
        int steps = program.size();
        HeavyHitters policy = new HeavyHitters(Budget.tokens(budget), recent,
                norm ? HeavyHitters.Accumulation.NORM_SUM : HeavyHitters.Accumulation.SUM, quantum);
        BruteForceH2o sim = new BruteForceH2o(budget, recent, quantum, norm, steps);
        int[] posOfSlot = new int[steps + 1];
        Arrays.fill(posOfSlot, -1);
        int[] free = new int[steps + 1];
        int freeCount = 0;
        int slotTop = 0;
        int[] victims = new int[steps + 1];
        float[][] bySlot = new float[2][steps + 1];
        float[][] byPos = new float[2][steps + 1];
        for (int pos = 0; pos < steps; pos++) {
            int op = program.get(pos);
            SplittableRandom rnd = new SplittableRandom(op);
            if (op % 4 != 0) {
                int n = policy.evict(1, victims);
                List<Integer> expected = sim.evict(1);
                List<Integer> got = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    got.add(posOfSlot[victims[i]]);
                    posOfSlot[victims[i]] = -1;
                    free[freeCount++] = victims[i];
                }
                assertEquals(expected, got, "victims (as positions) before step " + pos);
                if (n > 0 && op % 3 == 0) {
                    // Tail-fill compaction: moves must not change any score.
                    int live = policy.liveTokens();
                    int hole = 0;
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
                    }
                    slotTop = live;
                    freeCount = 0;
                }
            }
            int slot = freeCount > 0 ? free[--freeCount] : slotTop++;
            posOfSlot[slot] = pos;
            policy.onAppend(slot, pos);
            sim.append(pos);
            for (int h = 0; h < 2; h++) {
                Arrays.fill(bySlot[h], 0f);
                Arrays.fill(byPos[h], 0f);
            }
            for (int s = 0; s < slotTop; s++) {
                for (int h = 0; h < 2; h++) {
                    if (posOfSlot[s] >= 0) {
                        float w = rnd.nextInt(4) / 8f; // coarse: ties are common
                        bySlot[h][s] = w;
                        byPos[h][posOfSlot[s]] = w;
                    } else {
                        bySlot[h][s] = 9f; // a hole: the policy must ignore it
                    }
                }
            }
            policy.onAttention(0, 0, bySlot[0], 0, slotTop);
            policy.onAttention(1, 3, bySlot[1], 0, slotTop);
            sim.attend(byPos[0], byPos[1]);
            for (int s = 0; s < slotTop; s++) {
                if (posOfSlot[s] >= 0) {
                    assertEquals(sim.key(posOfSlot[s]), policy.scoreOf(s), "score of position " + posOfSlot[s]);
                }
            }
        }
    }
}
