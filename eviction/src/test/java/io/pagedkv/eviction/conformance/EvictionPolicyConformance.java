package io.pagedkv.eviction.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import org.junit.jupiter.api.Test;

/**
 * The policy conformance kit, on the testkit: extend it, implement {@link #newPolicy()}, and JUnit
 * checks (as shrinking properties over random engine programs) that your
 * {@link EvictionPolicy} keeps the contract on random engine programs (appends with slot reuse,
 * attention rows, keys, bursts, tail-fill compaction): the budget bound after every eviction,
 * victims live and distinct and forgotten, positions tracked through moves, sinks and the recent
 * window kept (for {@link io.pagedkv.eviction.BudgetedPolicy}), and bad input refused with the state
 * left as it was.
 *
 * <pre>{@code
 * class MyPolicyConformanceTest extends EvictionPolicyConformance {
 *     protected EvictionPolicy newPolicy() { return new MyPolicy(16); }
 * }
 * }</pre>
 */
public abstract class EvictionPolicyConformance {

    /** A fresh policy with a small budget (8-32 tokens make programs exercise eviction quickly). */
    protected abstract EvictionPolicy newPolicy();

    /** Appends per program. */
    protected int maxTokens() {
        return 160;
    }

    /**
     * Every contract invariant (see {@link PolicyDriver}) after every step of a random engine program;
     * a failure shrinks to the shortest program and prints the seed to replay it.
     */
    @Test
    void budgetBoundAndEveryContractInvariantHoldAfterEveryStep() {
        Property.forAll(Gens.lists(Gens.ints(0, 1 << 20), 1, maxTokens()))
                .check(program -> new PolicyDriver(newPolicy(), maxTokens() + 1).run(program));
    }

    @Test
    void appendToALiveSlotIsRefusedAndLeavesThePolicyAsItWas() {
        EvictionPolicy p = newPolicy();
        p.onAppend(0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.onAppend(0, 1));
        assertTrue(e.getMessage().contains("slot: 0"), e.getMessage());
        assertEquals(1, p.liveTokens());
        assertEquals(0, p.positionOf(0));
    }

    @Test
    void negativeSlotsAndPositionsAreRefused() {
        EvictionPolicy p = newPolicy();
        assertThrows(IllegalArgumentException.class, () -> p.onAppend(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> p.onAppend(0, -1));
        assertEquals(0, p.liveTokens());
    }

    @Test
    void movesFromAFreeSlotOrOntoALiveSlotAreRefused() {
        EvictionPolicy p = newPolicy();
        p.onAppend(0, 0);
        p.onAppend(1, 1);
        assertThrows(IllegalArgumentException.class, () -> p.onMove(5, 6));
        assertThrows(IllegalArgumentException.class, () -> p.onMove(0, 1));
        assertEquals(0, p.positionOf(0));
        assertEquals(1, p.positionOf(1));
        p.onMove(1, 7);
        assertFalse(p.isLive(1));
        assertEquals(1, p.positionOf(7));
    }

    @Test
    void resetForgetsEveryToken() {
        EvictionPolicy p = newPolicy();
        for (int i = 0; i < p.budget() + 3; i++) {
            p.onAppend(i, i);
        }
        p.reset();
        assertEquals(0, p.liveTokens());
        assertEquals(0, p.pendingEvictions());
        assertFalse(p.isLive(0));
        p.onAppend(0, 0);
        assertEquals(1, p.liveTokens());
    }
}
