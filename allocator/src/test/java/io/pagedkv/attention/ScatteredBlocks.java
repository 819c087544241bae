package io.pagedkv.attention;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * A test-side paged store: the keys and values of one sequence written through the layout's codec
 * into blocks of one arena, the block table a random permutation (so a kernel that assumed
 * contiguous blocks would fail). Also the token-major float arrays the oracle reads, holding exactly
 * what the codec gives back (so quantisation error is not mistaken for a kernel error).
 */
final class ScatteredBlocks implements AutoCloseable {

    final CacheLayout layout;
    final int tokens;
    /** What the codec gives back: the oracle's input. */
    final float[][] keys;
    final float[][] values;
    /** What was written, before encoding. */
    final float[][] originalKeys;
    final float[][] originalValues;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment[] blocks;
    private final int[] table;

    ScatteredBlocks(CacheLayout layout, int tokens, SplittableRandom r) {
        this.layout = layout;
        this.tokens = tokens;
        int layers = layout.shape().layers();
        int kvHeads = layout.shape().kvHeads();
        int headDim = layout.shape().headDim();
        int kvDim = kvHeads * headDim;
        int nBlocks = (int) layout.blocksFor(tokens) + 2; // two spare blocks never referenced
        MemorySegment pool = arena.allocate(nBlocks * layout.bytesPerBlock(), 64);
        blocks = new MemorySegment[nBlocks];
        for (int i = 0; i < nBlocks; i++) {
            blocks[i] = pool.asSlice(i * layout.bytesPerBlock(), layout.bytesPerBlock());
            blocks[i].fill((byte) 0x7F); // garbage (NaN-like bytes) where nothing was written
        }
        table = new int[(int) layout.blocksFor(tokens)];
        int[] perm = new int[nBlocks];
        for (int i = 0; i < nBlocks; i++) {
            perm[i] = i;
        }
        for (int i = nBlocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        System.arraycopy(perm, 0, table, 0, table.length);
        KvCodec codec = KvCodecs.of(layout.dtype());
        keys = new float[layers][tokens * kvDim];
        values = new float[layers][tokens * kvDim];
        originalKeys = new float[layers][tokens * kvDim];
        originalValues = new float[layers][tokens * kvDim];
        float[] src = new float[headDim];
        for (int l = 0; l < layers; l++) {
            for (int t = 0; t < tokens; t++) {
                MemorySegment block = blocks[table[t / layout.blockSize()]];
                int slot = t % layout.blockSize();
                for (int h = 0; h < kvHeads; h++) {
                    for (int kv = 0; kv < 2; kv++) {
                        for (int i = 0; i < headDim; i++) {
                            src[i] = (float) (r.nextDouble() * 4 - 2);
                        }
                        long off = layout.offset(l, kv, h, slot);
                        codec.encode(src, 0, headDim, block, off);
                        float[] dst = kv == CacheLayout.K ? keys[l] : values[l];
                        codec.decode(block, off, headDim, dst, (t * kvHeads + h) * headDim);
                        float[] orig = kv == CacheLayout.K ? originalKeys[l] : originalValues[l];
                        System.arraycopy(src, 0, orig, (t * kvHeads + h) * headDim, headDim);
                    }
                }
            }
        }
    }

    /** The table, its length the tokens written. */
    BlockTableView view() {
        return BlockTableView.of(() -> tokens, i -> blocks[table[i]]);
    }

    @Override
    public void close() {
        arena.close();
    }
}
