/**
 * pagedkv allocator: model shapes, KV dtypes and codecs, the memory planner, and the off-heap
 * paged block pool with sequences, block tables, fork and copy-on-write, the engine-facing step API
 * ({@code io.pagedkv.engine}), and the storage tiers below the pool (host memory, files; the block
 * store SPI that the optional Redis module implements).
 */
module io.pagedkv.allocator {
    requires static jdk.incubator.vector;
    requires org.agrona;
    requires com.fasterxml.jackson.core;
    requires jdk.jfr;

    exports io.pagedkv.attention;
    exports io.pagedkv.cache;
    exports io.pagedkv.dtype;
    exports io.pagedkv.engine;
    exports io.pagedkv.model;
    exports io.pagedkv.plan;
    exports io.pagedkv.tier;
    exports io.pagedkv.workload;
}
