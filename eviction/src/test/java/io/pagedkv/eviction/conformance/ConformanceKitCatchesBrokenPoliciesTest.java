package io.pagedkv.eviction.conformance;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.eviction.Budget;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.SlidingWindow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kit must fail on policies that break the contract, or it proves nothing. */
class ConformanceKitCatchesBrokenPoliciesTest {

    /** Delegates to a policy but can be made to misbehave. */
    static class Broken implements EvictionPolicy {
        final EvictionPolicy inner;
        final boolean neverEvicts;
        final boolean forgetsMoves;
        final boolean copySharesState;

        Broken(EvictionPolicy inner, boolean neverEvicts, boolean forgetsMoves, boolean copySharesState) {
            this.inner = inner;
            this.neverEvicts = neverEvicts;
            this.forgetsMoves = forgetsMoves;
            this.copySharesState = copySharesState;
        }

        @Override public String name() { return "broken"; }
        @Override public Budget budget() { return inner.budget(); }
        @Override public int quantum() { return inner.quantum(); }
        @Override public long appended() { return inner.appended(); }
        @Override public int liveTokens() { return inner.liveTokens(); }
        @Override public boolean isLive(int slot) { return inner.isLive(slot); }
        @Override public int positionOf(int slot) { return inner.positionOf(slot); }
        @Override public int liveSlots(int[] out) { return inner.liveSlots(out); }
        @Override public void onAppend(int slot, int position) { inner.onAppend(slot, position); }
        @Override public boolean usesAttention() { return inner.usesAttention(); }
        @Override public void onAttention(int l, int h, float[] w, int off, int n) { inner.onAttention(l, h, w, off, n); }
        @Override public int evict(int incoming, int[] victims) { return neverEvicts ? 0 : inner.evict(incoming, victims); }
        @Override public int pendingEvictions(int incoming) { return neverEvicts ? 0 : inner.pendingEvictions(incoming); }
        @Override public void onMove(int from, int to) { if (!forgetsMoves) { inner.onMove(from, to); } }
        @Override public void reset() { inner.reset(); }
        @Override public EvictionPolicy copy() {
            return copySharesState ? this : new Broken(inner.copy(), neverEvicts, forgetsMoves, false);
        }
    }

    static List<Integer> decodeSteps(int n) {
        List<Integer> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ops.add(i * 6);
        }
        return ops;
    }

    @Test
    void aPolicyThatNeverEvictsFailsTheBudgetBound() {
        Broken p = new Broken(new SlidingWindow(4), true, false, false);
        assertThrows(AssertionError.class, () -> new PolicyDriver(p, 20).run(decodeSteps(10)));
    }

    @Test
    void aPolicyThatLosesTrackOfMovedTokensFails() {
        List<Integer> ops = decodeSteps(8);
        ops.add(3); // two prompt tokens placed with no eviction, then a compression moves tail tokens down
        ops.add(3);
        ops.add(4);
        Broken p = new Broken(new SlidingWindow(4), false, true, false);
        assertThrows(AssertionError.class, () -> new PolicyDriver(p, 20).run(ops));
    }

    @Test
    void aCopyThatSharesStateWithTheOriginalFails() {
        List<Integer> ops = decodeSteps(6);
        ops.add(5); // fork: the "copy" runs the future first and changes the original under it
        ops.addAll(decodeSteps(10));
        Broken p = new Broken(new HeavyHitters(4, 1, HeavyHitters.Accumulation.SUM), false, false, true);
        assertThrows(AssertionError.class, () -> new PolicyDriver(p, 40).run(ops));
    }
}
