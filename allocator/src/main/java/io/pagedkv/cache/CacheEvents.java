package io.pagedkv.cache;

/** The one place that emits this package's JFR events; cheap when recording is off. Stateless. */
final class CacheEvents {

    private CacheEvents() {
    }

    static void poolExhausted(int requested, int free, int total) {
        PoolExhaustedEvent e = new PoolExhaustedEvent();
        if (e.shouldCommit()) {
            e.requested = requested;
            e.free = free;
            e.total = total;
            e.commit();
        }
    }

    static void copyOnWrite(long sequence, int blockIndex, int fromBlock, int toBlock, long bytes) {
        CopyOnWriteEvent e = new CopyOnWriteEvent();
        if (e.shouldCommit()) {
            e.sequence = sequence;
            e.blockIndex = blockIndex;
            e.fromBlock = fromBlock;
            e.toBlock = toBlock;
            e.bytes = bytes;
            e.commit();
        }
    }
}
