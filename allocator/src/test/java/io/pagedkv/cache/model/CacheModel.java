package io.pagedkv.cache.model;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A plain in-memory model of a {@link io.pagedkv.cache.PagedKvCache}: sequences are lists of model
 * blocks (objects compared by identity, shared by forks), plus the salt each written token was
 * written with. It predicts exactly how many blocks every operation takes, when it fails, and when
 * a copy-on-write happens; the system under test must agree after every command.
 */
public final class CacheModel {

    /** A block of the model: identity only. */
    public static final class Block {
        private static int counter;
        private final int name = counter++;

        @Override
        public String toString() {
            return "b" + name;
        }
    }

    /** A sequence of the model. */
    public static final class Seq {
        final int key;
        final List<Block> blocks;
        /** Salt per position, -1 when appended but not written. */
        final List<Integer> salts;
        /** Leading positions written in every layer (the sequence's written mark). */
        int written;

        Seq(int key, List<Block> blocks, List<Integer> salts, int written) {
            this.key = key;
            this.blocks = blocks;
            this.salts = salts;
            this.written = written;
        }

        /** The written mark. */
        public int written() {
            return written;
        }

        /** The key that names this sequence in commands. */
        public int key() {
            return key;
        }

        /** Tokens appended. */
        public int length() {
            return salts.size();
        }

        @Override
        public String toString() {
            return "s" + key + "(len " + salts.size() + ")";
        }
    }

    final int totalBlocks;
    final int blockSize;
    final List<Seq> open = new ArrayList<>();
    int nextKey;
    long copies;

    /** An empty model of a cache with {@code totalBlocks} blocks of {@code blockSize} tokens. */
    public CacheModel(int totalBlocks, int blockSize) {
        this.totalBlocks = totalBlocks;
        this.blockSize = blockSize;
    }

    /** Open sequences, in opening order. */
    public List<Seq> open() {
        return open;
    }

    /** Total blocks. */
    public int totalBlocks() {
        return totalBlocks;
    }

    /** Tokens per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Copy-on-write copies so far. */
    public long copies() {
        return copies;
    }

    /** How many open sequences name each block. */
    public Map<Block, Integer> refCounts() {
        Map<Block, Integer> rc = new IdentityHashMap<>();
        for (Seq s : open) {
            for (Block b : s.blocks) {
                rc.merge(b, 1, Integer::sum);
            }
        }
        return rc;
    }

    /** Blocks named by at least one open sequence. */
    public int usedBlocks() {
        return refCounts().size();
    }

    /** Free blocks. */
    public int freeBlocks() {
        return totalBlocks - usedBlocks();
    }

    /** Blocks named by more than one sequence. */
    public int sharedBlocks() {
        int n = 0;
        for (int c : refCounts().values()) {
            if (c > 1) {
                n++;
            }
        }
        return n;
    }

    /** Blocks {@code append(n)} on {@code s} needs, counting a copy of a shared, partly filled last block. */
    public int blocksToAppend(Seq s, int n) {
        int len = s.length();
        int need = (int) (((long) len + n + blockSize - 1) / blockSize) - s.blocks.size();
        if (len % blockSize != 0 && refCounts().get(s.blocks.get(s.blocks.size() - 1)) > 1) {
            need++;
        }
        return need;
    }

    /** The largest {@code n} that {@code append(n)} on {@code s} can take now (0 if none). */
    public int maxAppend(Seq s) {
        int free = freeBlocks();
        int len = s.length();
        int room = len % blockSize == 0 ? 0 : blockSize - len % blockSize;
        boolean cow = room > 0 && refCounts().get(s.blocks.get(s.blocks.size() - 1)) > 1;
        if (cow) {
            if (free == 0) {
                return 0;
            }
            free--;
        }
        return room + free * blockSize;
    }

    /** Opens a sequence. */
    public Seq openSeq() {
        Seq s = new Seq(nextKey++, new ArrayList<>(), new ArrayList<>(), 0);
        open.add(s);
        return s;
    }

    /** Applies a successful append. */
    public void append(Seq s, int n) {
        int len = s.length();
        if (len % blockSize != 0 && refCounts().get(s.blocks.get(s.blocks.size() - 1)) > 1) {
            s.blocks.set(s.blocks.size() - 1, new Block());
            copies++;
        }
        int want = (len + n + blockSize - 1) / blockSize;
        while (s.blocks.size() < want) {
            s.blocks.add(new Block());
        }
        for (int i = 0; i < n; i++) {
            s.salts.add(-1);
        }
    }

    /** Whether writing position {@code pos} of {@code s} needs a copy first. */
    public boolean writeNeedsCopy(Seq s, int pos) {
        return refCounts().get(s.blocks.get(pos / blockSize)) > 1;
    }

    /** Applies a successful write of {@code salt} at {@code pos}. */
    public void write(Seq s, int pos, int salt) {
        if (writeNeedsCopy(s, pos)) {
            s.blocks.set(pos / blockSize, new Block());
            copies++;
        }
        s.salts.set(pos, salt);
        if (pos == s.written) {
            s.written++; // a whole-token write of the next position advances the mark by one
        }
    }

    /** Applies {@code markWritten(n)}: the mark never goes down. */
    public void markWritten(Seq s, int n) {
        s.written = Math.max(s.written, n);
    }

    /** Applies a fork. */
    public Seq fork(Seq s) {
        Seq c = new Seq(nextKey++, new ArrayList<>(s.blocks), new ArrayList<>(s.salts), s.written);
        open.add(c);
        return c;
    }

    /** Applies a close. */
    public void close(Seq s) {
        open.remove(s);
    }

    /** The open sequence with key {@code key}, or null. */
    public Seq byKey(int key) {
        for (Seq s : open) {
            if (s.key == key) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "model" + open + " free " + freeBlocks() + "/" + totalBlocks;
    }
}
