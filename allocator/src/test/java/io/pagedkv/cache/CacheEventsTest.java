package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.model.KvPattern;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JFR events an operator sees: pool exhaustion and copy-on-write, with their numbers. */
class CacheEventsTest {

    @Test
    void exhaustionAndCopyOnWriteAreRecordedWithTheirNumbers(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.jfr");
        try (Recording rec = new Recording()) {
            rec.enable("io.pagedkv.PoolExhausted");
            rec.enable("io.pagedkv.CopyOnWrite");
            rec.start();
            try (PagedKvCache cache = new PagedKvCache(PagedKvCacheTest.LAYOUT, 3)) {
                Sequence a = cache.openSequence();
                a.append(4);
                Sequence b = a.fork();
                KvPattern.writeToken(b, 1, 0); // copy-on-write of block 0 into block 1
                b.append(5);                   // needs 2 blocks, 1 free: fails
                b.close();
                a.close();
            } catch (PoolExhaustedException expected) {
                // b.append(5) fails as intended
            }
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        RecordedEvent cow = events.stream().filter(e -> e.getEventType().getName().equals("io.pagedkv.CopyOnWrite"))
                .findFirst().orElseThrow(() -> new AssertionError("no CopyOnWrite event in " + events));
        assertEquals(0, cow.getInt("blockIndex"));
        assertEquals(0, cow.getInt("fromBlock"));
        assertEquals(1, cow.getInt("toBlock"));
        assertEquals(PagedKvCacheTest.LAYOUT.bytesPerBlock(), cow.getLong("bytes"));
        RecordedEvent ex = events.stream().filter(e -> e.getEventType().getName().equals("io.pagedkv.PoolExhausted"))
                .findFirst().orElseThrow(() -> new AssertionError("no PoolExhausted event in " + events));
        assertEquals(2, ex.getInt("requested"));
        assertEquals(1, ex.getInt("free"));
        assertEquals(3, ex.getInt("total"));
        assertTrue(Files.size(file) > 0);
    }
}
