package io.pagedkv.tier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The local file tier: one file per block value in a directory, named {@code <fingerprint>-<salt>-<hash>.kvb}
 * (16 hex digits each), holding exactly the {@link BlockValueFormat} bytes; capacity in bytes with
 * least-recently-used eviction.
 *
 * <h2>Durability</h2>
 * A put writes a temporary file ({@code .tmp-*}) and renames it over the final name with an atomic
 * move, so a reader (or a restart) sees the old value, the new one, or none, never a half-written
 * file under the final name. With {@code fsync} the data is forced to disk before the rename (and
 * survives a power loss); without it a crash may leave a renamed file whose data never reached the
 * disk, which the CRC32C then rejects on first read (and the file is deleted): nothing torn is ever
 * served either way. {@link #open} deletes leftover temporary files, indexes every {@code .kvb} file
 * (oldest modification time = least recently used: a put and a hit set the file's time to a strictly
 * increasing stamp, so the order survives a restart exactly; a file written by anything else counts
 * as used when it was written) and evicts down to
 * the capacity. One store per directory at a time: {@link #open} takes a lock file ({@code .lock}).
 *
 * <h2>Threading</h2>
 * Thread-safe: one lock around each call, file I/O included (the tier is meant for transfer workers).
 */
public final class FileBlockStore implements BlockStore {

    /** The medium name in events and stats. */
    public static final String MEDIUM = "disk";
    /** Suffix of value files. */
    public static final String SUFFIX = ".kvb";
    /** Prefix of temporary files (deleted on open). */
    public static final String TMP_PREFIX = ".tmp-";

    private final Path dir;
    private final long capacityBytes;
    private final boolean fsync;
    private final FileChannel lockChannel;
    private final FileLock lock;
    /**
     * In LRU order (the first entry is the least recently used; a put or a hit moves its key to the end
     * by remove and re-insert, a rejected get does not); values are file sizes.
     */
    private final LinkedHashMap<BlockKey, Long> lru = new LinkedHashMap<>();
    private final TierCounters counters = new TierCounters();
    private final KvEventHub events = new KvEventHub(MEDIUM);
    private final CRC32C crc = new CRC32C();
    private long bytesUsed;
    private long tmpCounter;
    /** The last modification stamp given, in microseconds: stamps strictly increase, so file times order uses. */
    private long clockMicros;
    private boolean closed;

    private FileBlockStore(Path dir, long capacityBytes, boolean fsync, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.capacityBytes = capacityBytes;
        this.fsync = fsync;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** {@link #open(Path, long, boolean)} without fsync (torn files are rejected by checksum on read). */
    public static FileBlockStore open(Path dir, long capacityBytes) {
        return open(dir, capacityBytes, false);
    }

    /**
     * Opens (creating if needed) the store in {@code dir}: deletes temporary files, indexes the values
     * found and evicts the least recently modified ones beyond {@code capacityBytes}.
     *
     * @throws IllegalArgumentException if {@code capacityBytes <= 0} or {@code dir} is null
     * @throws IllegalStateException if another store holds the directory
     * @throws UncheckedIOException if the directory cannot be created, locked or listed
     */
    public static FileBlockStore open(Path dir, long capacityBytes, boolean fsync) {
        if (dir == null) {
            throw new IllegalArgumentException("dir: null (expected: a directory)");
        }
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes: " + capacityBytes + " (expected: > 0)");
        }
        FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                throw new IllegalStateException("dir: " + dir + " is in use by another FileBlockStore (expected: one "
                        + "store per directory)");
            }
            FileBlockStore store = new FileBlockStore(dir, capacityBytes, fsync, ch, l);
            ch = null;
            store.recover();
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file tier in " + dir + ": " + e.getMessage(), e);
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the open already failed
                }
            }
        }
    }

    private record Found(BlockKey key, long size, FileTime modified) {
    }

    private void recover() throws IOException {
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.startsWith(TMP_PREFIX)) {
                    Files.deleteIfExists(p);
                } else if (name.endsWith(SUFFIX) && name.length() == 50 + SUFFIX.length()) {
                    BlockKey key;
                    try {
                        key = BlockKey.parseHex(name.substring(0, 50));
                    } catch (IllegalArgumentException e) {
                        continue; // not ours
                    }
                    found.add(new Found(key, Files.size(p), Files.getLastModifiedTime(p)));
                }
            }
        }
        found.sort((a, b) -> a.modified().compareTo(b.modified()));
        for (Found f : found) {
            lru.put(f.key(), f.size());
            bytesUsed += f.size();
            clockMicros = Math.max(clockMicros, f.modified().to(TimeUnit.MICROSECONDS));
        }
        evictBeyondCapacity(null, new ArrayList<>());
    }

    @Override
    public String medium() {
        return MEDIUM;
    }

    /** The directory. */
    public Path directory() {
        return dir;
    }

    /** The file that holds (or would hold) the value of {@code key}. */
    public Path fileOf(BlockKey key) {
        return dir.resolve(key.toHex() + SUFFIX);
    }

    @Override
    public boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload) {
        BlockStore.checkArgs(key, tokens, from, count, payload, "payload");
        long len = BlockValueFormat.HEADER_BYTES + 4L * count + payload.byteSize() + BlockValueFormat.TRAILER_BYTES;
        if (len > capacityBytes || len > BlockValueFormat.MAX_VALUE_BYTES) {
            counters.putRefused();
            return false;
        }
        List<BlockKey> evicted = new ArrayList<>(1);
        synchronized (this) {
            checkOpen();
            byte[] head = new byte[(int) BlockValueFormat.payloadOffset(count)];
            BlockValueFormat.writeHeader(MemorySegment.ofArray(head), 0, key, parentHash, tokens, from, count,
                    payload.byteSize());
            ByteBuffer body = payload.asByteBuffer();
            crc.reset();
            crc.update(head);
            crc.update(body.duplicate());
            ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).flip();
            Path target = fileOf(key);
            Path tmp = dir.resolve(TMP_PREFIX + key.toHex() + "-" + (tmpCounter++));
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    writeFully(ch, ByteBuffer.wrap(head));
                    writeFully(ch, body);
                    writeFully(ch, trailer);
                    if (fsync) {
                        ch.force(true);
                    }
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                stamp(target);
            } catch (IOException e) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; open() deletes leftovers
                }
                counters.error();
                counters.putRefused();
                return false;
            }
            Long old = lru.remove(key);
            lru.put(key, len);
            bytesUsed += len - (old == null ? 0 : old);
            counters.put(payload.byteSize());
            evictBeyondCapacity(key, evicted);
        }
        for (BlockKey k : evicted) {
            events.removed(k);
        }
        events.stored(key, parentHash, tokens, from, count);
        return true;
    }

    private void evictBeyondCapacity(BlockKey keep, List<BlockKey> evicted) {
        Iterator<Map.Entry<BlockKey, Long>> it = lru.entrySet().iterator();
        while (bytesUsed > capacityBytes && it.hasNext()) {
            Map.Entry<BlockKey, Long> e = it.next();
            if (e.getKey().equals(keep)) {
                continue;
            }
            it.remove();
            bytesUsed -= e.getValue();
            deleteQuietly(fileOf(e.getKey()));
            counters.eviction();
            evicted.add(e.getKey());
        }
    }

    /**
     * Sets the file's modification time to the next stamp (now, or one microsecond after the last
     * stamp if the clock has not moved), so that a restart orders the files exactly as they were used:
     * the kernel's own file times are only as fine as its timer tick.
     */
    private void stamp(Path file) {
        long now = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
        clockMicros = Math.max(now, clockMicros + 1);
        try {
            Files.setLastModifiedTime(file, FileTime.from(clockMicros, TimeUnit.MICROSECONDS));
        } catch (IOException ignored) {
            // only the LRU order after a restart suffers
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static boolean readFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    private void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            counters.error();
        }
    }

    @Override
    public int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        BlockStore.checkArgs(key, tokens, from, count, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: a writable segment)");
        }
        int result;
        boolean dropped = false;
        synchronized (this) {
            checkOpen();
            Long size = lru.get(key);
            if (size == null) {
                counters.miss();
                return MISS;
            }
            Path file = fileOf(key);
            int check;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                check = read(ch, key, parentHash, tokens, from, count, dst);
            } catch (NoSuchFileException e) {
                lru.remove(key);
                bytesUsed -= size;
                counters.miss();
                return MISS;
            } catch (IOException e) {
                counters.error();
                return UNAVAILABLE;
            }
            if (check == BlockValueFormat.OK) {
                lru.remove(key);
                lru.put(key, size);
                stamp(file);
                counters.hit(dst.byteSize());
                result = (int) dst.byteSize();
            } else {
                counters.rejected(check);
                if (check == BlockValueFormat.CORRUPT) {
                    lru.remove(key);
                    bytesUsed -= size;
                    deleteQuietly(file);
                    dropped = true;
                }
                result = REJECTED;
            }
        }
        if (dropped) {
            events.removed(key);
        }
        return result;
    }

    /** Reads and verifies one value file; the payload is read straight into {@code dst}. */
    private int read(FileChannel ch, BlockKey key, long parentHash, int[] tokens, int from, int count,
            MemorySegment dst) throws IOException {
        long fileBytes = ch.size();
        int headBytes = (int) BlockValueFormat.payloadOffset(count);
        byte[] head = new byte[headBytes];
        ByteBuffer hb = ByteBuffer.wrap(head, 0, Math.min(BlockValueFormat.HEADER_BYTES, headBytes));
        if (!readFully(ch, hb)) {
            return BlockValueFormat.CORRUPT;
        }
        MemorySegment hs = MemorySegment.ofArray(head);
        if (BlockValueFormat.checkFraming(hs, 0, fileBytes) != BlockValueFormat.OK) {
            return BlockValueFormat.CORRUPT;
        }
        if (BlockValueFormat.tokenCount(hs, 0) != count || BlockValueFormat.payloadBytes(hs, 0) != dst.byteSize()) {
            // A value of another shape: read it whole to tell damage from a different block (rare).
            if (fileBytes > BlockValueFormat.MAX_VALUE_BYTES) {
                return BlockValueFormat.CORRUPT;
            }
            byte[] all = new byte[(int) fileBytes];
            ch.position(0);
            if (!readFully(ch, ByteBuffer.wrap(all))) {
                return BlockValueFormat.CORRUPT;
            }
            return BlockValueFormat.verify(MemorySegment.ofArray(all), key, parentHash, tokens, from, count,
                    dst.byteSize());
        }
        if (!readFully(ch, ByteBuffer.wrap(head, BlockValueFormat.HEADER_BYTES, headBytes - BlockValueFormat.HEADER_BYTES))) {
            return BlockValueFormat.CORRUPT;
        }
        ByteBuffer body = dst.asByteBuffer();
        if (!readFully(ch, body)) {
            return BlockValueFormat.CORRUPT;
        }
        ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        if (!readFully(ch, trailer)) {
            return BlockValueFormat.CORRUPT;
        }
        crc.reset();
        crc.update(head);
        crc.update(body.flip());
        if ((int) crc.getValue() != trailer.getInt(0)) {
            return BlockValueFormat.CORRUPT;
        }
        return BlockValueFormat.checkIdentity(hs, 0, key, parentHash, tokens, from, count, dst.byteSize());
    }

    @Override
    public synchronized boolean contains(BlockKey key) {
        checkOpen();
        return lru.containsKey(key);
    }

    @Override
    public boolean remove(BlockKey key) {
        synchronized (this) {
            checkOpen();
            Long size = lru.remove(key);
            if (size == null) {
                return false;
            }
            bytesUsed -= size;
            deleteQuietly(fileOf(key));
            counters.removal();
        }
        events.removed(key);
        return true;
    }

    @Override
    public void clear() {
        synchronized (this) {
            checkOpen();
            for (BlockKey k : lru.keySet()) {
                deleteQuietly(fileOf(k));
            }
            lru.clear();
            bytesUsed = 0;
        }
        events.cleared();
    }

    @Override
    public synchronized TierStats stats() {
        return counters.snapshot(MEDIUM, lru.size(), bytesUsed, capacityBytes);
    }

    @Override
    public void addListener(KvEventListener listener) {
        events.add(listener);
    }

    @Override
    public boolean removeListener(KvEventListener listener) {
        return events.remove(listener);
    }

    /** Releases the directory lock; the files stay for the next {@link #open}. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the lock of " + dir + ": " + e.getMessage(), e);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("FileBlockStore " + dir + ": closed");
        }
    }
}
