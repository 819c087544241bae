package io.pagedkv.cache;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code io.pagedkv.PoolExhausted}: a block request failed because too few blocks were free.
 * Committed by {@link BlockPool} on the failure path only; one instance per event, not shared.
 */
@Name("io.pagedkv.PoolExhausted")
@Label("KV Block Pool Exhausted")
@Category({"pagedkv", "KV cache"})
@Description("A request for KV cache blocks failed because too few blocks were free")
@StackTrace(false)
final class PoolExhaustedEvent extends jdk.jfr.Event {
    @Label("Requested Blocks")
    int requested;
    @Label("Free Blocks")
    int free;
    @Label("Total Blocks")
    int total;
}
