package io.pagedkv.tier;

import io.pagedkv.cache.CacheLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The host-memory tier: block values in off-heap memory of one {@link Arena}, in fixed-size slots,
 * evicted least-recently-used first when full.
 *
 * <h2>Algorithm</h2>
 * Capacity is {@code capacityBytes / slotBytes} slots, where a slot holds the largest value the store
 * was made for ({@link BlockValueFormat#valueBytes}{@code (maxTokens, maxPayloadBytes)} rounded up to 8
 * bytes). Slots live in chunks of about 64 MiB allocated from the arena the first time one of their
 * slots is used, so a large tier costs nothing until it fills. A key finds its slot through an
 * open-addressing index ({@code SlotIndex}); slots are linked in an intrusive LRU list (int arrays);
 * a put into a full store reuses the oldest slot. In steady state a put or get allocates nothing
 * (the checksum runs over a byte-buffer view made once per chunk). Every get verifies the value's
 * framing, CRC32C, key fields and token ids before copying, so {@code dst} is untouched unless it is
 * a hit; a corrupt value is dropped.
 *
 * <h2>Threading</h2>
 * Thread-safe: one lock around each call, copies included (a get holds it for one block copy);
 * events are emitted after the lock is released.
 */
public final class HostMemoryStore implements BlockStore {

    /** The medium name in events and stats. */
    public static final String MEDIUM = "cpu";
    /** Target bytes of one arena chunk (at least one slot). */
    public static final long CHUNK_BYTES = 64L << 20;

    private final long capacityBytes;
    private final int slotBytes;
    private final int slots;
    private final int slotsPerChunk;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] chunks;
    private final ByteBuffer[] views;
    private final long[] keyFp;
    private final long[] keyHash;
    private final long[] keySalt;
    private final int[] valueLen;
    /** LRU links; index {@code slots} is the sentinel: {@code next[slots]} oldest, {@code prev[slots]} youngest. */
    private final int[] prev;
    private final int[] next;
    private final int[] freeStack;
    private final SlotIndex index;
    private final CRC32C crc = new CRC32C();
    private final TierCounters counters = new TierCounters();
    private final KvEventHub events = new KvEventHub(MEDIUM);

    private int freeTop;
    private int fresh;
    private int entries;
    private long bytesUsed;
    private boolean closed;

    /**
     * A store of {@code capacityBytes} for values of up to {@code maxTokens} token ids and
     * {@code maxPayloadBytes} of K/V.
     *
     * @throws IllegalArgumentException if a size is negative, a slot would exceed 2^31 - 1 bytes, or the
     *     capacity holds no slot (the message names the slot size)
     */
    public HostMemoryStore(long capacityBytes, int maxTokens, long maxPayloadBytes) {
        long slot = (BlockValueFormat.valueBytes(maxTokens, maxPayloadBytes) + 7) & ~7L;
        if (slot > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("slot: " + slot + " bytes (expected: <= " + Integer.MAX_VALUE + ")");
        }
        if (capacityBytes < slot) {
            throw new IllegalArgumentException("capacityBytes: " + capacityBytes + " (expected: >= one slot of "
                    + slot + " bytes)");
        }
        long n = capacityBytes / slot;
        if (n > (1 << 28)) {
            throw new IllegalArgumentException("capacityBytes: " + capacityBytes + " makes " + n + " slots of " + slot
                    + " bytes (expected: <= 2^28 slots)");
        }
        this.capacityBytes = capacityBytes;
        this.slotBytes = (int) slot;
        this.slots = (int) n;
        this.slotsPerChunk = (int) Math.max(1, Math.min(slots, CHUNK_BYTES / slot));
        int chunkCount = (slots + slotsPerChunk - 1) / slotsPerChunk;
        this.chunks = new MemorySegment[chunkCount];
        this.views = new ByteBuffer[chunkCount];
        this.keyFp = new long[slots];
        this.keyHash = new long[slots];
        this.keySalt = new long[slots];
        this.valueLen = new int[slots];
        this.prev = new int[slots + 1];
        this.next = new int[slots + 1];
        this.freeStack = new int[slots];
        this.index = new SlotIndex(slots, keyFp, keyHash, keySalt);
        prev[slots] = slots;
        next[slots] = slots;
    }

    /** A store of {@code capacityBytes} for the blocks of {@code layout}. */
    public static HostMemoryStore forLayout(CacheLayout layout, long capacityBytes) {
        return new HostMemoryStore(capacityBytes, layout.blockSize(), layout.bytesPerBlock());
    }

    @Override
    public String medium() {
        return MEDIUM;
    }

    /** Bytes of one slot: the largest value this store takes. */
    public int slotBytes() {
        return slotBytes;
    }

    /** Number of slots: values this store holds when full. */
    public int slotCount() {
        return slots;
    }

    @Override
    public boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload) {
        BlockStore.checkArgs(key, tokens, from, count, payload, "payload");
        long len = lengthOf(count, payload.byteSize());
        if (len > slotBytes) {
            counters.putRefused();
            return false;
        }
        long evictedFp = 0;
        long evictedHash = 0;
        long evictedSalt = 0;
        boolean evicted = false;
        synchronized (this) {
            checkOpen();
            int slot = index.find(key.fingerprint(), key.hash(), key.salt());
            if (slot >= 0) {
                unlink(slot);
                bytesUsed -= valueLen[slot];
            } else {
                if (freeTop > 0) {
                    slot = freeStack[--freeTop];
                } else if (fresh < slots) {
                    slot = fresh;
                    if (!ensureChunk(slot / slotsPerChunk)) {
                        counters.putRefused();
                        return false;
                    }
                    fresh++;
                } else {
                    slot = next[slots];
                    evicted = true;
                    evictedFp = keyFp[slot];
                    evictedHash = keyHash[slot];
                    evictedSalt = keySalt[slot];
                    unlink(slot);
                    index.delete(slot);
                    bytesUsed -= valueLen[slot];
                    entries--;
                    counters.eviction();
                }
                keyFp[slot] = key.fingerprint();
                keyHash[slot] = key.hash();
                keySalt[slot] = key.salt();
                index.insert(slot);
                entries++;
            }
            int chunk = slot / slotsPerChunk;
            MemorySegment seg = chunks[chunk];
            long base = (long) (slot % slotsPerChunk) * slotBytes;
            BlockValueFormat.writeHeader(seg, base, key, parentHash, tokens, from, count, payload.byteSize());
            MemorySegment.copy(payload, 0, seg, base + BlockValueFormat.payloadOffset(count), payload.byteSize());
            crc.reset();
            BlockValueFormat.Crc32c.update(crc, views[chunk], (int) base, (int) len - BlockValueFormat.TRAILER_BYTES);
            BlockValueFormat.writeChecksum(seg, base, len, (int) crc.getValue());
            valueLen[slot] = (int) len;
            bytesUsed += len;
            linkYoungest(slot);
            counters.put(payload.byteSize());
        }
        if (evicted && events.active()) {
            events.removed(new BlockKey(evictedFp, evictedHash, evictedSalt));
        }
        events.stored(key, parentHash, tokens, from, count);
        return true;
    }

    private static long lengthOf(int count, long payload) {
        return BlockValueFormat.HEADER_BYTES + 4L * count + payload + BlockValueFormat.TRAILER_BYTES;
    }

    private boolean ensureChunk(int chunk) {
        if (chunks[chunk] != null) {
            return true;
        }
        int slotsHere = Math.min(slotsPerChunk, slots - chunk * slotsPerChunk);
        try {
            MemorySegment seg = arena.allocate((long) slotsHere * slotBytes, 64);
            chunks[chunk] = seg;
            views[chunk] = seg.asByteBuffer();
            return true;
        } catch (OutOfMemoryError e) {
            return false;
        }
    }

    @Override
    public int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        BlockStore.checkArgs(key, tokens, from, count, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: a writable segment)");
        }
        BlockKey dropped = null;
        int result;
        synchronized (this) {
            checkOpen();
            int slot = index.find(key.fingerprint(), key.hash(), key.salt());
            if (slot < 0) {
                counters.miss();
                return MISS;
            }
            int chunk = slot / slotsPerChunk;
            MemorySegment seg = chunks[chunk];
            long base = (long) (slot % slotsPerChunk) * slotBytes;
            int len = valueLen[slot];
            int check = BlockValueFormat.checkFraming(seg, base, len);
            if (check == BlockValueFormat.OK) {
                crc.reset();
                BlockValueFormat.Crc32c.update(crc, views[chunk], (int) base, len - BlockValueFormat.TRAILER_BYTES);
                if ((int) crc.getValue() != BlockValueFormat.storedChecksum(seg, base, len)) {
                    check = BlockValueFormat.CORRUPT;
                } else {
                    check = BlockValueFormat.checkIdentity(seg, base, key, parentHash, tokens, from, count,
                            dst.byteSize());
                }
            }
            if (check == BlockValueFormat.OK) {
                MemorySegment.copy(seg, base + BlockValueFormat.payloadOffset(count), dst, 0, dst.byteSize());
                unlink(slot);
                linkYoungest(slot);
                counters.hit(dst.byteSize());
                result = (int) dst.byteSize();
            } else {
                counters.rejected(check);
                if (check == BlockValueFormat.CORRUPT) {
                    drop(slot);
                    dropped = key;
                }
                result = REJECTED;
            }
        }
        if (dropped != null) {
            events.removed(dropped);
        }
        return result;
    }

    @Override
    public synchronized boolean contains(BlockKey key) {
        checkOpen();
        return index.find(key.fingerprint(), key.hash(), key.salt()) >= 0;
    }

    @Override
    public boolean remove(BlockKey key) {
        synchronized (this) {
            checkOpen();
            int slot = index.find(key.fingerprint(), key.hash(), key.salt());
            if (slot < 0) {
                return false;
            }
            drop(slot);
            counters.removal();
        }
        events.removed(key);
        return true;
    }

    private void drop(int slot) {
        unlink(slot);
        index.delete(slot);
        bytesUsed -= valueLen[slot];
        valueLen[slot] = 0;
        entries--;
        freeStack[freeTop++] = slot;
    }

    @Override
    public void clear() {
        synchronized (this) {
            checkOpen();
            for (int s = next[slots]; s != slots;) {
                int n = next[s];
                valueLen[s] = 0;
                freeStack[freeTop++] = s;
                s = n;
            }
            prev[slots] = slots;
            next[slots] = slots;
            index.clear();
            entries = 0;
            bytesUsed = 0;
        }
        events.cleared();
    }

    @Override
    public synchronized TierStats stats() {
        return counters.snapshot(MEDIUM, entries, bytesUsed, capacityBytes);
    }

    @Override
    public void addListener(KvEventListener listener) {
        events.add(listener);
    }

    @Override
    public boolean removeListener(KvEventListener listener) {
        return events.remove(listener);
    }

    /** Frees the arena; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("HostMemoryStore: closed");
        }
    }

    private void linkYoungest(int slot) {
        int last = prev[slots];
        prev[slot] = last;
        next[slot] = slots;
        next[last] = slot;
        prev[slots] = slot;
    }

    private void unlink(int slot) {
        next[prev[slot]] = next[slot];
        prev[next[slot]] = prev[slot];
    }

    /** Test hook: flips the bits of one byte of the value stored under {@code key} (false if absent). */
    synchronized boolean corruptForTest(BlockKey key, long offsetInValue) {
        int slot = index.find(key.fingerprint(), key.hash(), key.salt());
        if (slot < 0 || offsetInValue < 0 || offsetInValue >= valueLen[slot]) {
            return false;
        }
        MemorySegment seg = chunks[slot / slotsPerChunk];
        long at = (long) (slot % slotsPerChunk) * slotBytes + offsetInValue;
        seg.set(ValueLayout.JAVA_BYTE, at, (byte) ~seg.get(ValueLayout.JAVA_BYTE, at));
        return true;
    }

    /** Test hook: the stored length of the value under {@code key}, or -1. */
    synchronized int valueBytesForTest(BlockKey key) {
        int slot = index.find(key.fingerprint(), key.hash(), key.salt());
        return slot < 0 ? -1 : valueLen[slot];
    }
}
