/**
 * pagedkv's optional Redis tier: a {@link io.pagedkv.tier.BlockStore} on Redis through Lettuce, shared
 * by many servers, and a publisher of KV events to a Redis channel. The core modules do not depend on
 * it (nor on any network client).
 */
module io.pagedkv.redis {
    requires transitive io.pagedkv.allocator;
    requires lettuce.core;

    exports io.pagedkv.redis;
}
