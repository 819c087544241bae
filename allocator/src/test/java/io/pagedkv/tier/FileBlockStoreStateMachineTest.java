package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file tier against {@link StoreModel} (testkit stateful): put, get, remove, clear, a restart
 * (close and reopen the directory), a flipped byte or a truncation of a value file on disk, and a
 * temporary file left by a crash. After every step the store holds exactly the model's keys in its
 * LRU order (also across restarts), every hit returns exactly the bytes put, a damaged file is
 * rejected and deleted, no temporary file survives a restart, and counters and events match.
 */
class FileBlockStoreStateMachineTest {

    static final int VALUES = 3;
    static final long VALUE_BYTES = BlockValueFormat.valueBytes(StoreModel.TOKENS, StoreModel.PAYLOAD);
    static final long CAPACITY = VALUES * VALUE_BYTES + VALUE_BYTES / 2;

    static final class Sut {
        final Path dir;
        FileBlockStore store;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        Sut() {
            try {
                dir = Files.createTempDirectory("pagedkv-file-tier");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            open();
        }

        void open() {
            store = FileBlockStore.open(dir, CAPACITY);
            store.addListener(e -> events.add(StoreModel.describe(e)));
        }
    }

    /** The file tier's counters restart at zero: the model keeps its counts since the last restart. */
    static final class Model {
        StoreModel m = fresh();

        static StoreModel fresh() {
            return new StoreModel(VALUES, CAPACITY, VALUE_BYTES);
        }
    }

    record Put(int id, int tokenSeed, long payloadSeed) implements Command<Model, Sut> {
        public void run(Model m, Sut s) {
            assertTrue(s.store.put(StoreModel.key(id), tokenSeed, StoreModel.tokens(tokenSeed), 0, StoreModel.TOKENS,
                    Blocks.payload(payloadSeed, StoreModel.PAYLOAD)));
            m.m.put(id, new StoreModel.Value(tokenSeed, tokenSeed, payloadSeed));
        }
    }

    record Get(int id, int tokenSeed) implements Command<Model, Sut> {
        public void run(Model m, Sut s) {
            MemorySegment dst = MemorySegment.ofArray(new byte[StoreModel.PAYLOAD]);
            int r = s.store.get(StoreModel.key(id), tokenSeed, StoreModel.tokens(tokenSeed), 0, StoreModel.TOKENS, dst);
            m.m.checkGet(id, tokenSeed, tokenSeed, r, dst);
        }
    }

    record Remove(int id) implements Command<Model, Sut> {
        public void run(Model m, Sut s) {
            assertEquals(m.m.remove(id), s.store.remove(StoreModel.key(id)));
        }
    }

    record Clear() implements Command<Model, Sut> {
        public void run(Model m, Sut s) {
            s.store.clear();
            m.m.clear();
        }
    }

    record Restart() implements Command<Model, Sut> {
        public void run(Model m, Sut s) throws IOException {
            s.store.close();
            s.open();
            StoreModel fresh = Model.fresh();
            fresh.lru.putAll(m.m.lru);
            fresh.damaged.addAll(m.m.damaged);
            fresh.truncatedTo.putAll(m.m.truncatedTo);
            fresh.size.putAll(m.m.size);
            fresh.events.addAll(m.m.events);
            fresh.restarted();
            m.m = fresh;
            try (Stream<Path> files = Files.list(s.dir)) {
                assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(FileBlockStore.TMP_PREFIX)),
                        "no temporary file survives a restart");
            }
        }
    }

    record DamageFile(int id, int offset, boolean truncate) implements Command<Model, Sut> {
        public boolean precondition(Model m) {
            return m.m.lru.containsKey(id) && !m.m.damaged.contains(id); // a second flip could undo the first
        }

        public void run(Model m, Sut s) throws IOException {
            Path f = s.store.fileOf(StoreModel.key(id));
            // Bit rot: the damage keeps the file's time (an external write would count as a use after a restart).
            var time = Files.getLastModifiedTime(f);
            damage(m, f);
            Files.setLastModifiedTime(f, time);
        }

        private void damage(Model m, Path f) throws IOException {
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                if (raf.length() == 0) {
                    m.m.damaged.add(id);
                    return; // already truncated to nothing
                }
                long at = offset % raf.length();
                if (truncate) {
                    raf.setLength(at);
                    m.m.truncatedTo.put(id, at);
                } else {
                    raf.seek(at);
                    int b = raf.read();
                    raf.seek(at);
                    raf.write(b ^ 0x20);
                }
            }
            m.m.damaged.add(id);
        }
    }

    record CrashLeftover(int n) implements Command<Model, Sut> {
        public void run(Model m, Sut s) throws IOException {
            Files.write(s.dir.resolve(FileBlockStore.TMP_PREFIX + "crash-" + n), new byte[n]);
        }
    }

    static final class Machine implements StateMachine<Model, Sut> {
        public Model initialModel() {
            return new Model();
        }

        public Sut newSystem() {
            return new Sut();
        }

        public Gen<Command<Model, Sut>> commands(Model m) {
            Gen<Integer> ids = Gens.ints(0, StoreModel.KEYS - 1);
            Gen<Integer> seeds = Gens.ints(0, 2);
            Gen<Command<Model, Sut>> put = Gens.zip(ids, seeds, Gens.longs(0, 1000), Put::new);
            Gen<Command<Model, Sut>> get = Gens.zip(ids, seeds, Get::new);
            Gen<Command<Model, Sut>> remove = ids.map(Remove::new);
            Gen<Command<Model, Sut>> clear = in -> new Clear();
            Gen<Command<Model, Sut>> restart = in -> new Restart();
            Gen<Command<Model, Sut>> damage = Gens.zip(ids, Gens.ints(0, 1000), Gens.booleans(), DamageFile::new);
            Gen<Command<Model, Sut>> leftover = Gens.ints(1, 50).map(CrashLeftover::new);
            return Gens.frequency(5, put, 5, get, 3, Gens.choose(restart, damage, remove, leftover, restart, clear));
        }

        public void invariants(Model m, Sut s) {
            m.m.checkStats(s.store, VALUE_BYTES);
            assertEquals(m.m.events, s.events, "events");
        }

        public void close(Sut s) throws IOException {
            s.store.close();
            try (Stream<Path> files = Files.walk(s.dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void fileTierIsAnLruOfVerifiedValuesThatSurvivesRestartsAndRejectsDamagedFiles() {
        Stateful.of(new Machine()).steps(40).tries(60).check();
    }

    @Test
    void theLruOrderSurvivesARestart() {
        Stateful.replay(new Machine(), new Put(0, 0, 1), new Put(1, 0, 2), new Put(2, 0, 3), new Get(0, 0),
                new Restart(), new Put(3, 0, 4), new Get(0, 0), new Get(1, 0));
    }

    @Test
    void reopeningWithASmallerCapacityEvictsTheLeastRecentlyUsedFiles(@TempDir Path dir) {
        try (FileBlockStore s = FileBlockStore.open(dir, 10 * VALUE_BYTES)) {
            for (int id = 0; id < 5; id++) {
                assertTrue(s.put(StoreModel.key(id), 0, StoreModel.tokens(0), 0, 4, Blocks.payload(id, 64)));
            }
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, s.get(StoreModel.key(0), 0, StoreModel.tokens(0), 0, 4, dst));
        }
        try (FileBlockStore s = FileBlockStore.open(dir, 2 * VALUE_BYTES)) {
            assertEquals(2, s.stats().entries());
            assertTrue(s.contains(StoreModel.key(0)), "used last");
            assertTrue(s.contains(StoreModel.key(4)), "stored last");
            MemorySegment dst = MemorySegment.ofArray(new byte[64]);
            assertEquals(64, s.get(StoreModel.key(4), 0, StoreModel.tokens(0), 0, 4, dst));
            assertTrue(Blocks.holds(dst, 4));
        }
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefused(@TempDir Path dir) {
        try (FileBlockStore s = FileBlockStore.open(dir, 1 << 20)) {
            assertEquals(dir, s.directory());
            var e = assertThrows(IllegalStateException.class, () -> FileBlockStore.open(dir, 1 << 20));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        FileBlockStore.open(dir, 1 << 20).close();
    }
}
