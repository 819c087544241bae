package io.pagedkv.eviction.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The policy conformance kit, on the testkit: extend it, implement {@link #newPolicy()}, and JUnit
 * checks (as shrinking properties over random engine programs, see {@link PolicyDriver}) that your
 * {@link EvictionPolicy} keeps the contract in the library's step order (evict, then place): the
 * budget bound after every eviction (fixed or ratio budgets), whole quanta and no over-eviction,
 * victims live and distinct and forgotten, positions tracked through moves, sinks and the recent
 * window kept (for {@link io.pagedkv.eviction.BudgetedPolicy}), the widened hooks (keys and values
 * per layer and KV head, queries and attention rows per layer and query head, garbage on holes), a
 * {@linkplain EvictionPolicy#copy() copy} that decides exactly like the original on the same future,
 * and bad input refused with the state left as it was.
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

    /** Programs that fork early and then run long: the copy must make every decision the original makes. */
    @Test
    void aCopyMakesTheSameDecisionsAsTheOriginalOnTheSameFuture() {
        Property.forAll(Gens.ints(0, 60), Gens.lists(Gens.ints(0, 1 << 20), 20, maxTokens()))
                .check((before, ops) -> {
                    List<Integer> program = new ArrayList<>();
                    for (int i = 0; i < before; i++) {
                        program.add(6 * i); // decode steps
                    }
                    program.add(5); // fork
                    for (int op : ops) {
                        program.add(Math.floorMod(op, 6) == 5 ? op + 1 : op);
                    }
                    new PolicyDriver(newPolicy(), maxTokens() + 80).run(program);
                });
    }

    @Test
    void aCopyIsIndependentOfTheOriginal() {
        EvictionPolicy p = newPolicy();
        for (int i = 0; i < 3; i++) {
            p.onAppend(i, i);
        }
        EvictionPolicy c = p.copy();
        c.onAppend(3, 3);
        assertEquals(3, p.liveTokens(), "appending to the copy changed the original");
        assertFalse(p.isLive(3));
        p.reset();
        assertEquals(4, c.liveTokens(), "resetting the original changed the copy");
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
        assertThrows(IllegalArgumentException.class, () -> p.pendingEvictions(-1));
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
    void attentionRowsOverMoreSlotsThanThePolicyHasSeenAreRefused() {
        EvictionPolicy p = newPolicy();
        if (!p.usesAttention()) {
            return;
        }
        for (int i = 0; i < 4; i++) {
            p.onAppend(i, i);
        }
        float[] row = new float[64];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.onAttention(0, 0, row, 0, 64));
        assertTrue(e.getMessage().contains("slotCount: 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.onAttention(0, 0, row, 62, 4));
        p.onAttention(0, 0, row, 0, 4);
    }

    @Test
    void moreIncomingTokensThanTheBudgetCanHoldAreRefusedAndChangeNothing() {
        EvictionPolicy p = newPolicy();
        if (p.budget().isRatio()) {
            return;
        }
        int budget = p.budget().minTokens();
        for (int i = 0; i < budget; i++) {
            p.onAppend(i, i);
        }
        int[] victims = new int[4 * budget];
        assertThrows(IllegalArgumentException.class, () -> p.evict(budget + 1, victims));
        assertEquals(budget, p.liveTokens(), "a refused evict changes nothing");
        assertEquals(p.quantum(), p.evict(1, victims), "one decode step still evicts one quantum");
    }

    @Test
    void resetForgetsEveryToken() {
        EvictionPolicy p = newPolicy();
        int n = p.budget().minTokens() + 3;
        for (int i = 0; i < n; i++) {
            p.onAppend(i, i);
        }
        p.reset();
        assertEquals(0, p.liveTokens());
        assertEquals(0, p.appended());
        assertEquals(0, p.pendingEvictions(1));
        assertFalse(p.isLive(0));
        p.onAppend(0, 0);
        assertEquals(1, p.liveTokens());
    }
}
