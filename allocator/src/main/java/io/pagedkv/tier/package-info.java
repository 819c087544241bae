/**
 * Tiers below the block pool: a block store SPI ({@link io.pagedkv.tier.BlockStore}) keyed by layout
 * fingerprint, chained block hash and salt, with verified values (header, token ids, CRC32C), an
 * off-heap host-memory tier, a local file tier, a tiered chain, a bounded offload/restore queue that
 * keeps the scheduler thread off the stores, and KV events (stored / removed / all cleared).
 */
package io.pagedkv.tier;
