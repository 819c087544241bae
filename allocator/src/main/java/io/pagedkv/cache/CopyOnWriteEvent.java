package io.pagedkv.cache;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code io.pagedkv.CopyOnWrite}: a sequence copied a shared block before writing into it.
 * One instance per event, not shared.
 */
@Name("io.pagedkv.CopyOnWrite")
@Label("KV Block Copy-on-Write")
@Category({"pagedkv", "KV cache"})
@Description("A sequence copied a shared KV block before its first write into it")
@StackTrace(false)
final class CopyOnWriteEvent extends jdk.jfr.Event {
    @Label("Sequence Id")
    long sequence;
    @Label("Block Index")
    int blockIndex;
    @Label("Source Block")
    int fromBlock;
    @Label("Copy Block")
    int toBlock;
    @Label("Bytes")
    @DataAmount
    long bytes;
}
