package io.pagedkv.redis;

import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.RestoreTicket;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The second cache-side process of {@link TwoProcessSharingTest}, started in its own JVM:
 * {@code write URL SEED} offloads the prompt blocks of a {@link PeerCache} to Redis through a
 * {@link BlockTransferQueue}; {@code read URL SEED OUT} restores them from Redis through the queue and
 * writes each result code and the restored bytes to OUT. Exit code 0 when it ran.
 */
public final class RedisPeer {

    private RedisPeer() {
    }

    /** {@code write URL SEED} or {@code read URL SEED OUT}. */
    public static void main(String[] args) throws IOException, InterruptedException {
        String mode = args[0];
        String url = args[1];
        long seed = Long.parseLong(args[2]);
        try (RedisBlockStore store = RedisBlockStore.connect(url);
                BlockTransferQueue queue = BlockTransferQueue.forLayout(store, PeerCache.LAYOUT, 4, 4, 1)) {
            if (mode.equals("write")) {
                try (PeerCache peer = new PeerCache(seed)) {
                    for (int b = 0; b < PeerCache.BLOCKS; b++) {
                        while (!queue.offload(peer.key(b), peer.parent(b), peer.prompt, b * 16, 16, peer.block(b))) {
                            Thread.sleep(1);
                        }
                    }
                    if (!queue.awaitIdle(30, TimeUnit.SECONDS) || queue.stats().offloadsStored() != PeerCache.BLOCKS) {
                        throw new IllegalStateException("offloads: " + queue.stats());
                    }
                }
            } else {
                // Only the keys are needed to read: build them without writing K/V (a fresh cache has none).
                PeerKeys keys = new PeerKeys(seed);
                try (Arena arena = Arena.ofShared(); OutputStream out = Files.newOutputStream(Path.of(args[3]))) {
                    MemorySegment dst = arena.allocate(PeerCache.LAYOUT.bytesPerBlock());
                    for (int b = 0; b < PeerCache.BLOCKS; b++) {
                        RestoreTicket t = queue.restore(keys.key(b), keys.parent(b), keys.prompt, b * 16, 16, dst);
                        int r = t.await(30, TimeUnit.SECONDS);
                        out.write(java.nio.ByteBuffer.allocate(4).putInt(r).array());
                        out.write(dst.toArray(ValueLayout.JAVA_BYTE));
                    }
                }
            }
        }
        System.out.println("peer " + mode + " done");
    }
}
