package io.pagedkv.consumer;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.KeyNorm;
import io.pagedkv.eviction.SequenceEvictor;
import io.pagedkv.model.ModelShape;

/**
 * pagedkv used as a library, written from README.md and docs/ only: open a cache, write and read
 * K/V, commit a prompt's blocks to the prefix cache and hit them from a second request, fork with
 * copy-on-write, run an eviction policy on a sequence, fork it with its policy state, and open a
 * prefix hit under a policy. Every step checks its result; a failed check exits with status 1, so the
 * build that runs this program fails.
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

            // 4. Eviction (docs/eviction.md): an H2O policy on one sequence; the cache never holds more
            //    than the budget, because each append evicts first and then places the token.
            int budget = 8;
            try (SequenceEvictor ev = new SequenceEvictor(cache.openSequence(),
                    new HeavyHitters(budget, 4, HeavyHitters.Accumulation.SUM))) {
                for (int t = 0; t < 20; t++) {
                    decodeStep(ev, 100 + t);
                    check(ev.liveTokens() <= budget, "H2O keeps <= " + budget + " tokens, has " + ev.liveTokens());
                }
                check(ev.slotOf(2) != EvictingSequence.HOLE, "the heavy hitter (position 2) is kept");
                check(ev.slotOf(5) == EvictingSequence.HOLE, "an ordinary old token (position 5) is evicted");
                check(ev.tokensEvicted() == 20 - budget, "evicted " + ev.tokensEvicted() + " (expected " + (20 - budget) + ")");
                for (int slot = 0; slot < ev.slots(); slot++) {
                    int position = ev.positionOf(slot);
                    checkToken(ev, position, position, "evicting sequence position " + position);
                }

                // 5. A fork (a beam) shares the blocks and copies the policy with its scores: on the same
                //    future steps it keeps exactly what its parent keeps.
                try (SequenceEvictor beam = ev.fork()) {
                    for (int t = 20; t < 30; t++) {
                        decodeStep(ev, 100 + t);
                        decodeStep(beam, 100 + t);
                    }
                    for (int position = 0; position < 30; position++) {
                        check((ev.slotOf(position) == EvictingSequence.HOLE) == (beam.slotOf(position) == EvictingSequence.HOLE),
                                "the beam and its parent agree on position " + position);
                    }
                    check(beam.slotOf(2) != EvictingSequence.HOLE, "the beam kept the heavy hitter's score");
                }
            }

            // 6. A prefix hit under a policy: the cached prompt blocks come back as positions 0 .. n-1,
            //    their keys shown to the key-norm policy; only the rest of the prompt is prefilled.
            try (SequenceEvictor hit = new SequenceEvictor(cache.openSequence(prompt), new KeyNorm(budget, 2, 2))) {
                int reused = hit.nextPosition();
                check(reused == committed * BLOCK, "prefix hit under a policy reused " + reused + " tokens");
                for (int p = 0; p < reused; p++) {
                    checkToken(hit, p, 1f, "prefix hit under a policy, position " + p);
                }
                int rest = hit.prefill(prompt, reused, prompt.length - reused);
                for (int p = rest; p < prompt.length; p++) {
                    writeToken(hit, p, 1f);
                }
                hit.compress();
                check(hit.liveTokens() == budget, "compressed to the budget: " + hit.liveTokens());
                check(hit.holes() == 0, "no hole after a compression");
            }

            CacheStats stats = cache.stats();
            check(stats.usedBlocks() == 0, "blocks still referenced after every close: " + stats.usedBlocks());
            System.out.println("pagedkv consumer: all checks passed; prefix hit " + committed * BLOCK
                    + " tokens; " + stats);
        }
    }

    /**
     * One decode step under a policy: place the token (the policy evicts first), write its K/V by
     * position, and show the policy one attention row per (layer, query head) in which position 2 is a
     * heavy hitter.
     */
    private static void decodeStep(SequenceEvictor ev, int tokenId) {
        int position = ev.append(tokenId);
        writeToken(ev, position, position);
        float[] row = new float[ev.slots()];
        for (int slot = 0; slot < row.length; slot++) {
            row[slot] = ev.positionOf(slot) == 2 ? 0.5f : 0.5f / row.length;
        }
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int head = 0; head < 4; head++) {
                ev.attention(layer, head, row, 0);
            }
        }
    }

    /** Writes K and V of every layer for the token at {@code position} through the evictor (by position). */
    private static void writeToken(SequenceEvictor ev, int position, float base) {
        for (int layer = 0; layer < LAYERS; layer++) {
            ev.write(layer, position, keys(layer, base), values(layer, base));
        }
    }

    private static float[] keys(int layer, float base) {
        float[] k = new float[KV_HEADS * HEAD_DIM];
        for (int i = 0; i < k.length; i++) {
            k[i] = base + (layer * k.length + i) / 64f;
        }
        return k;
    }

    private static float[] values(int layer, float base) {
        float[] v = keys(layer, base);
        for (int i = 0; i < v.length; i++) {
            v[i] = -v[i];
        }
        return v;
    }

    private static void checkToken(SequenceEvictor ev, int position, float base, String what) {
        float[] k = new float[HEAD_DIM];
        float[] v = new float[HEAD_DIM];
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int head = 0; head < KV_HEADS; head++) {
                ev.readKey(layer, head, position, k, 0);
                ev.readValue(layer, head, position, v, 0);
                checkHead(k, v, layer, head, base, what);
            }
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
                checkHead(k, v, layer, head, base, what);
            }
        }
    }

    private static void checkHead(float[] k, float[] v, int layer, int head, float base, String what) {
        for (int d = 0; d < HEAD_DIM; d++) {
            float want = base + (layer * KV_HEADS * HEAD_DIM + head * HEAD_DIM + d) / 64f;
            // F16 keeps 11 significant bits: relative error below 2^-11
            check(Math.abs(k[d] - want) <= Math.abs(want) * 0x1p-11f + 1e-6f, what + ": key " + k[d]
                    + " (expected " + want + ")");
            check(Math.abs(v[d] + want) <= Math.abs(want) * 0x1p-11f + 1e-6f, what + ": value " + v[d]
                    + " (expected " + -want + ")");
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("pagedkv consumer: FAILED: " + what);
            System.exit(1);
        }
    }
}
