/** pagedkv eviction: eviction policies over paged storage and the policy experiment harness. */
module io.pagedkv.eviction {
    requires transitive io.pagedkv.allocator;

    exports io.pagedkv.eviction;
    exports io.pagedkv.eviction.harness;
}
