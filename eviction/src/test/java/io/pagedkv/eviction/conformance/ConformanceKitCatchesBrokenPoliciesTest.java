package io.pagedkv.eviction.conformance;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.SlidingWindow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kit must fail on policies that break the contract, or it proves nothing. */
class ConformanceKitCatchesBrokenPoliciesTest {

    /** Delegates to a window but can be made to misbehave. */
    static class Broken implements EvictionPolicy {
        final SlidingWindow inner = new SlidingWindow(4);
        final boolean neverEvicts;
        final boolean forgetsMoves;

        Broken(boolean neverEvicts, boolean forgetsMoves) {
            this.neverEvicts = neverEvicts;
            this.forgetsMoves = forgetsMoves;
        }

        @Override public String name() { return "broken"; }
        @Override public int budget() { return inner.budget(); }
        @Override public int quantum() { return 1; }
        @Override public int liveTokens() { return inner.liveTokens(); }
        @Override public boolean isLive(int slot) { return inner.isLive(slot); }
        @Override public int positionOf(int slot) { return inner.positionOf(slot); }
        @Override public int liveSlots(int[] out) { return inner.liveSlots(out); }
        @Override public void onAppend(int slot, int position) { inner.onAppend(slot, position); }
        @Override public int evict(int[] victims) { return neverEvicts ? 0 : inner.evict(victims); }
        @Override public int pendingEvictions() { return neverEvicts ? 0 : inner.pendingEvictions(); }
        @Override public void onMove(int from, int to) { if (!forgetsMoves) { inner.onMove(from, to); } }
        @Override public void reset() { inner.reset(); }
    }

    static List<Integer> decodeSteps(int n) {
        List<Integer> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ops.add(i * 5);
        }
        return ops;
    }

    @Test
    void aPolicyThatNeverEvictsFailsTheBudgetBound() {
        assertThrows(AssertionError.class, () -> new PolicyDriver(new Broken(true, false), 20).run(decodeSteps(10)));
    }

    @Test
    void aPolicyThatLosesTrackOfMovedTokensFails() {
        List<Integer> ops = decodeSteps(8);
        ops.add(3); // two burst appends, a decode step that evicts three, then compaction moves tail tokens down
        ops.add(3);
        ops.add(0);
        ops.add(4);
        assertThrows(AssertionError.class, () -> new PolicyDriver(new Broken(false, true), 20).run(ops));
    }
}
