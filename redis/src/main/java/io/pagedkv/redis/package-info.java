/**
 * The Redis tier: {@link io.pagedkv.redis.RedisBlockStore} (block values in Redis, verified on every
 * read), {@link io.pagedkv.redis.RedisTierConfig} (URL with ACL user, password and TLS) and
 * {@link io.pagedkv.redis.RedisKvEventPublisher} (KV events to a channel, for routers).
 */
package io.pagedkv.redis;
