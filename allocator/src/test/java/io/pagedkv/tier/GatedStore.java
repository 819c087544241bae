package io.pagedkv.tier;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in front of a real one that makes every call wait at a gate (a slow disk or network), can
 * throw or answer {@link BlockStore#UNAVAILABLE} on demand (a failing tier), and counts the calls that
 * entered it. For the transfer-queue and tiered-chain tests.
 */
final class GatedStore implements BlockStore {

    final BlockStore inner;
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile boolean unavailable;
    volatile boolean throwing;
    final AtomicInteger entered = new AtomicInteger();

    GatedStore(BlockStore inner) {
        this.inner = inner;
    }

    /** Closes the gate: calls wait until {@link #open()}. */
    void shut() {
        gate = new CountDownLatch(1);
    }

    void open() {
        gate.countDown();
    }

    private void pass() {
        entered.incrementAndGet();
        try {
            if (!gate.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("gate never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (throwing) {
            throw new IllegalStateException("planted failure");
        }
    }

    @Override
    public String medium() {
        return "gated-" + inner.medium();
    }

    @Override
    public boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload) {
        pass();
        return !unavailable && inner.put(key, parentHash, tokens, from, count, payload);
    }

    @Override
    public int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        pass();
        return unavailable ? UNAVAILABLE : inner.get(key, parentHash, tokens, from, count, dst);
    }

    @Override
    public boolean contains(BlockKey key) {
        return !unavailable && inner.contains(key);
    }

    @Override
    public boolean remove(BlockKey key) {
        return inner.remove(key);
    }

    @Override
    public void clear() {
        inner.clear();
    }

    @Override
    public TierStats stats() {
        return inner.stats();
    }

    @Override
    public void addListener(KvEventListener listener) {
        inner.addListener(listener);
    }

    @Override
    public boolean removeListener(KvEventListener listener) {
        return inner.removeListener(listener);
    }

    @Override
    public void close() {
        inner.close();
    }
}
