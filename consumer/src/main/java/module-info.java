/** A program that uses pagedkv as a library: the two library modules, by their module names. */
module io.pagedkv.consumer {
    requires io.pagedkv.allocator;
    requires io.pagedkv.eviction;
}
