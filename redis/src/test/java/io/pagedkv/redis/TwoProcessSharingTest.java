package io.pagedkv.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.tier.BlockStore;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two cache-side clients in two processes (this JVM and a second one started with the same java)
 * share one real Redis: the blocks one writes from its {@code PagedKvCache} are restored byte for byte
 * by the other, in both directions.
 */
class TwoProcessSharingTest {

    static String runPeer(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                RedisPeer.class.getName()));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("peer-" + args[0] + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(90, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        assertTrue(done && p.exitValue() == 0, "second JVM (" + String.join(" ", args) + ") failed:\n" + out);
        return out;
    }

    @Test
    void blocksWrittenByOneProcessAreRestoredByteForByteByTheOther(@TempDir Path dir) throws Exception {
        try (RedisServer server = RedisServer.launch("--requirepass", "two-procs")) {
            String url = server.url(":two-procs");
            // The other process writes prompt 11; this one restores and compares with its own cache's bytes.
            assertTrue(runPeer(dir, "write", url, "11").contains("peer write done"));
            try (RedisBlockStore store = RedisBlockStore.connect(url); PeerCache mine = new PeerCache(11);
                    Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(PeerCache.LAYOUT.bytesPerBlock());
                for (int b = 0; b < PeerCache.BLOCKS; b++) {
                    assertEquals(dst.byteSize(), store.get(mine.key(b), mine.parent(b), mine.prompt, b * 16, 16, dst),
                            "block " + b);
                    assertEquals(-1, dst.mismatch(mine.block(b)), "block " + b + " byte for byte");
                }
                // A different prompt (another tenant's salt would do the same) finds nothing.
                PeerKeys other = new PeerKeys(12);
                assertEquals(BlockStore.MISS, store.get(other.key(0), other.parent(0), other.prompt, 0, 16, dst));
            }
            // This process writes prompt 21; the other restores it and hands back what it got.
            try (RedisBlockStore store = RedisBlockStore.connect(url); PeerCache mine = new PeerCache(21)) {
                for (int b = 0; b < PeerCache.BLOCKS; b++) {
                    assertTrue(store.put(mine.key(b), mine.parent(b), mine.prompt, b * 16, 16, mine.block(b)));
                }
                Path out = dir.resolve("restored.bin");
                runPeer(dir, "read", url, "21", out.toString());
                try (DataInputStream in = new DataInputStream(Files.newInputStream(out))) {
                    for (int b = 0; b < PeerCache.BLOCKS; b++) {
                        int r = in.readInt();
                        byte[] bytes = in.readNBytes((int) PeerCache.LAYOUT.bytesPerBlock());
                        assertEquals((int) PeerCache.LAYOUT.bytesPerBlock(), r, "block " + b + " result in the peer");
                        assertEquals(-1, MemorySegment.ofArray(bytes).mismatch(mine.block(b)),
                                "block " + b + " byte for byte in the peer");
                    }
                }
            }
        }
    }
}
