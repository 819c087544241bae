package io.pagedkv.consumer;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.SequenceEvictor;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.model.ModelShape;

/**
 * pagedkv used as a library, written from README.md and docs/ only: open a cache, write and read
 * K/V, commit a prompt's blocks to the prefix cache and hit them from a second request, fork with
 * copy-on-write, and run an eviction policy on a sequence. Every step checks its result; a failed
 * check exits with status 1, so the build that runs this program fails.
 */
public final class ConsumerExample {

    private static final int LAYERS = 2;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 8;
    private static final int BLOCK = 4;

    private ConsumerExample() {
    }

    /** Runs every check and prints what it saw. */
    public static void main(String[] args) {
        ModelShape shape = ModelShape.of("consumer-tiny", LAYERS, 4, KV_HEADS, HEAD_DIM);
        CacheLayout layout = new CacheLayout(shape, KvDType.F16, BLOCK);
        try (PagedKvCache cache = new PagedKvCache(layout, 32)) {
            int[] prompt = {1, 5, 9, 2, 6, 10, 3, 7, 11, 4};

            // 1. A first request: nothing cached yet; append the prompt with its token ids, write K/V.
            Sequence first = cache.openSequence(prompt);
            check(first.reusedTokens() == 0, "a cold cache reuses nothing, got " + first.reusedTokens());
            first.appendTokens(prompt, 0, prompt.length);
            for (int p = 0; p < prompt.length; p++) {
                writeToken(first, p, 1f);
            }
            checkToken(first, 9, 1f, "first request, read back");
            int committed = first.commitPrefix();
            check(committed == prompt.length / BLOCK, "full blocks committed: " + committed);

            // 2. Fork: the child shares every block; its write copies the shared block first.
            Sequence child = first.fork();
            writeToken(child, 9, -3f);
            checkToken(child, 9, -3f, "child after its own write");
            checkToken(first, 9, 1f, "parent after the child's write (copy-on-write)");
            child.close();

            // 3. A second request with the same prompt reuses the committed blocks, byte for byte.
            Sequence second = cache.openSequence(prompt);
            check(second.reusedTokens() == committed * BLOCK, "prefix hit reused " + second.reusedTokens()
                    + " tokens (expected " + committed * BLOCK + ")");
            for (int p = 0; p < second.reusedTokens(); p++) {
                checkToken(second, p, 1f, "prefix hit position " + p);
            }
            second.close();
            first.close();

            // 4. Eviction: a sliding window of 6 tokens over a 20-token stream keeps memory bounded.
            EvictingSequence evicting = new EvictingSequence(cache.openSequence());
            SequenceEvictor evictor = new SequenceEvictor(evicting, new SlidingWindow(6));
            for (int position = 0; position < 20; position++) {
                int slot = evictor.append(position);
                writeToken(evicting.sequence(), slot, position);
                evictor.evict();
                check(evicting.liveTokens() <= 6, "window keeps <= 6 tokens, has " + evicting.liveTokens());
            }
            for (int slot = 0; slot < evicting.slots(); slot++) {
                int position = evicting.positionOf(slot);
                check(position == EvictingSequence.HOLE || position >= 14, "slot " + slot + " keeps position "
                        + position + " (expected one of the last 6)");
                if (position != EvictingSequence.HOLE) {
                    checkToken(evicting.sequence(), slot, position, "evicting sequence slot " + slot);
                }
            }
            check(evicting.slots() <= 8, "slots in use: " + evicting.slots() + " (expected <= 2 blocks)");
            evicting.close();

            CacheStats stats = cache.stats();
            check(stats.usedBlocks() == 0, "blocks still referenced after every close: " + stats.usedBlocks());
            System.out.println("pagedkv consumer: all checks passed; prefix hit " + committed * BLOCK
                    + " tokens; " + stats);
        }
    }

    /** Writes K and V of every layer for the token at {@code position}: value {@code base + index / 64}. */
    private static void writeToken(Sequence seq, int position, float base) {
        float[] k = new float[KV_HEADS * HEAD_DIM];
        float[] v = new float[KV_HEADS * HEAD_DIM];
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int i = 0; i < k.length; i++) {
                k[i] = base + (layer * k.length + i) / 64f;
                v[i] = -k[i];
            }
            seq.write(layer, position, k, v);
        }
    }

    private static void checkToken(Sequence seq, int position, float base, String what) {
        float[] k = new float[HEAD_DIM];
        float[] v = new float[HEAD_DIM];
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int head = 0; head < KV_HEADS; head++) {
                seq.readKey(layer, head, position, k, 0);
                seq.readValue(layer, head, position, v, 0);
                for (int d = 0; d < HEAD_DIM; d++) {
                    float want = base + (layer * KV_HEADS * HEAD_DIM + head * HEAD_DIM + d) / 64f;
                    // F16 keeps 11 significant bits: relative error below 2^-11
                    check(Math.abs(k[d] - want) <= Math.abs(want) * 0x1p-11f + 1e-6f, what + ": key " + k[d]
                            + " (expected " + want + ")");
                    check(Math.abs(v[d] + want) <= Math.abs(want) * 0x1p-11f + 1e-6f, what + ": value " + v[d]
                            + " (expected " + -want + ")");
                }
            }
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("pagedkv consumer: FAILED: " + what);
            System.exit(1);
        }
    }
}
