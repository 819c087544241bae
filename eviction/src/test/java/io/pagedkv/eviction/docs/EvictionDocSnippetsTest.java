package io.pagedkv.eviction.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.Budget;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.KeyDiff;
import io.pagedkv.eviction.KeyNorm;
import io.pagedkv.eviction.LagKv;
import io.pagedkv.eviction.LayerPolicy;
import io.pagedkv.eviction.LayerwiseEvictor;
import io.pagedkv.eviction.RandomEviction;
import io.pagedkv.eviction.SequenceEvictor;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.eviction.Tova;
import io.pagedkv.eviction.conformance.EvictionPolicyConformance;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The Java snippets of docs/eviction.md, compiled and run: the doc quotes the code between the
 * {@code // snippet:NAME} markers verbatim ({@code DocSnippetsTest} in examples checks it).
 */
class EvictionDocSnippetsTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("doc", 2, 4, 2, 8), KvDType.F32, 16);
    static final int LAYERS = 2;
    static final int QUERY_HEADS = 4;
    static final int WIDTH = 2 * 8;

    static float[] vector(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    static float[] keys(int layer, int pos) {
        return vector(1000L * layer + pos, WIDTH);
    }

    static float[] values(int layer, int pos) {
        return vector(-1000L * layer - pos - 1, WIDTH);
    }

    static float[] query(int layer, int pos) {
        return vector(7_000_000L + 1000L * layer + pos, QUERY_HEADS * 8);
    }

    static int sample(float[] out) {
        return Math.floorMod(Float.floatToIntBits(out[0]), 100);
    }

    @Test
    void anEngineDecodesUnderABudgetThatTheCacheNeverExceeds() {
        CacheLayout layout = LAYOUT;
        int layers = LAYERS;
        int queryHeads = QUERY_HEADS;
        int[] prompt = new int[40];
        Arrays.setAll(prompt, i -> i + 1);
        float[] out = new float[queryHeads * 8];
        int next = 7;
        // snippet:eviction-engine-loop
        EvictionPolicy policy = new HeavyHitters(32, 16, HeavyHitters.Accumulation.SUM); // 32 kept, 16 of them recent
        try (PagedKvCache cache = new PagedKvCache(layout, 8);
                SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), policy)) {
            PagedAttention attention = PagedAttention.create(layout);
            BlockTableView table = BlockTableView.of(ev::slots, i -> cache.block(ev.blockId(i)));
            float[] weights = new float[queryHeads * prompt.length];

            int first = ev.prefill(prompt, 0, prompt.length);  // the whole prompt, no eviction
            for (int p = first; p < first + prompt.length; p++) {
                for (int l = 0; l < layers; l++) {
                    ev.write(l, p, keys(l, p), values(l, p));  // by position; the policy sees what it uses
                }
            }
            ev.compress();                                     // evict to 32, release empty blocks, tail-fill

            int token = next;
            for (int step = 0; step < 64; step++) {
                int pos = ev.append(token);                    // evicts first, then places: never above 32
                for (int l = 0; l < layers; l++) {
                    ev.write(l, pos, keys(l, pos), values(l, pos));
                    attention.decode(table, ev.slots(), l, query(l, pos), 0, out, 0, weights);
                    for (int h = 0; h < queryHeads; h++) {
                        ev.attention(l, h, weights, h * ev.slots()); // one row per (layer, query head)
                    }
                }
                token = sample(out);
            }
        }
        // end-snippet
        assertEquals(32, policy.liveTokens(), "the cache holds exactly the budget");
        assertEquals(104, policy.appended());
    }

    @Test
    void perLayerPoliciesFreeEachLayersMemoryInOnePool() {
        int layers = LAYERS;
        int queryHeads = QUERY_HEADS;
        int[] prompt = new int[40];
        Arrays.setAll(prompt, i -> i + 1);
        float[] out = new float[queryHeads * 8];
        float[] weights = new float[queryHeads * 64];
        int next = 7;
        // snippet:eviction-per-layer
        CacheLayout perLayer = new CacheLayout(ModelShape.of("doc-layer", 1, 4, 2, 8), KvDType.F32, 16); // one layer per page
        EvictionPolicy[] policies = LayerPolicy.PYRAMIDKV.create(32, layers);  // SnapKV per layer, budgets 55 and 9 (32 on average)
        try (PagedKvCache pool = new PagedKvCache(perLayer, 8);
                LayerwiseEvictor ev = new LayerwiseEvictor(pool, policies)) {
            PagedAttention attention = PagedAttention.create(perLayer);
            int first = ev.prefillWithoutIds(prompt.length);   // the prompt in every layer, no eviction
            int[] positions = new int[64];
            for (int l = 0; l < layers; l++) {
                int layer = l;
                BlockTableView table = BlockTableView.of(() -> ev.slots(layer), i -> pool.block(ev.blockId(layer, i)));
                for (int p = first; p < first + prompt.length; p++) {
                    ev.write(l, p, keys(l, p), values(l, p));
                }
                for (int s = 0; s < ev.slots(l); s++) {
                    positions[s] = ev.positionOf(l, s);
                }
                for (int p = first + prompt.length - 8; p < first + prompt.length; p++) { // SnapKV's observation window
                    attention.decodeAt(table, ev.slots(l), positions, p, 0, query(l, p), 0, out, 0, weights);
                    for (int h = 0; h < queryHeads; h++) {
                        ev.attention(l, h, weights, h * ev.slots(l)); // layer l's policy only
                    }
                }
            }
            ev.compress();                                     // layer 0 keeps all 40 (budget 55), layer 1 keeps 9
            int pos = ev.append(next);                         // every layer evicts its own victim, then places
            for (int l = 0; l < layers; l++) {
                ev.write(l, pos, keys(l, pos), values(l, pos));
            }
        }
        // end-snippet
        assertEquals(41, policies[0].liveTokens());
        assertEquals(9, policies[1].liveTokens());
    }

    @Test
    void everyPolicyTakesTheBudgetOfAllKeptTokens() {
        // snippet:eviction-constructors
        EvictionPolicy window = new SlidingWindow(64);                                // the last 64 tokens
        EvictionPolicy sinks = new AttentionSinks(64);                                // 4 sinks + the last 60
        EvictionPolicy eightSinks = new AttentionSinks(64, 8);                        // 8 sinks + the last 56
        EvictionPolicy h2o = new HeavyHitters(64, 32, HeavyHitters.Accumulation.SUM); // the last 32 + the 32 heaviest
        EvictionPolicy tova = new Tova(64);                                           // the 64 heaviest of the last step
        EvictionPolicy knorm = new KeyNorm(64, 4, 16);                                // 4 sinks, 16 recent, smallest key norms
        EvictionPolicy keydiff = new KeyDiff(64, 4, 8);                               // 4 sinks, 8 recent, most distinct keys
        EvictionPolicy lagkv = new LagKv(64, 4, 16);                                  // 4 sinks, partitions of 16 tokens
        EvictionPolicy random = new RandomEviction(64, 42);                           // the baseline, seed 42
        EvictionPolicy fifth = new Tova(Budget.ratio(0.2, 32), 1);                    // 20% of the context, at least 32
        EvictionPolicy byBlocks = new AttentionSinks(Budget.tokens(64), 4, 16);       // evicts whole blocks of 16
        // end-snippet
        for (EvictionPolicy p : new EvictionPolicy[] {window, sinks, eightSinks, h2o, tova, knorm, keydiff, lagkv, random,
            byBlocks}) {
            assertEquals(64, p.budget().tokensAt(10_000), p.name());
        }
        assertEquals(32, fifth.budget().tokensAt(100));
        assertEquals(200, fifth.budget().tokensAt(1000));
        assertEquals(16, byBlocks.quantum());
    }

    @Test
    void aForkCarriesThePolicyStateAndAPrefixHitShowsItsKeys() {
        int[] prompt = new int[35];
        Arrays.setAll(prompt, i -> 100 + i);
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16)) {
            try (Sequence donor = cache.openSequence(prompt)) {
                donor.appendTokens(prompt, 0, prompt.length);
                for (int p = 0; p < prompt.length; p++) {
                    for (int l = 0; l < LAYERS; l++) {
                        donor.write(l, p, keys(l, p), values(l, p));
                    }
                }
                donor.commitPrefix();
            }
            // snippet:eviction-prefix-hit-and-fork
            try (SequenceEvictor ev = new SequenceEvictor(cache.openSequence(prompt), new KeyNorm(32, 4, 8))) {
                int reused = ev.nextPosition();                       // positions 0 .. reused-1 come from the cache
                ev.prefill(prompt, reused, prompt.length - reused);  // only the rest is computed
                for (int p = reused; p < prompt.length; p++) {
                    for (int l = 0; l < LAYERS; l++) {
                        ev.write(l, p, keys(l, p), values(l, p));
                    }
                }
                ev.compress();
                try (SequenceEvictor beam = ev.fork()) {             // shared blocks, the policy copied with its state
                    for (SequenceEvictor s : new SequenceEvictor[] {ev, beam}) {
                        int pos = s.append(7);
                        for (int l = 0; l < LAYERS; l++) {
                            s.write(l, pos, keys(l, pos), values(l, pos));
                        }
                    }
                }
            }
            // end-snippet
            assertEquals(32, cache.prefixStats().hitTokens(), "two full blocks of 16 reused");
        }
    }

    @Test
    void theProtocolByHandForASimulatorWithoutAPagedCache() {
        float[] row = new float[8];
        int[] live = new int[8];
        // snippet:eviction-protocol-by-hand
        EvictionPolicy p = new Tova(4);
        int[] victims = new int[8];
        for (int pos = 0; pos < 10; pos++) {
            int n = p.evict(1, victims);             // make room for one token first
            int slot = n > 0 ? victims[0] : pos;     // the new token takes the victim's slot
            p.onAppend(slot, pos);
            Arrays.fill(row, 0f);
            for (int s = 0; s < 4; s++) {
                row[s] = p.isLive(s) ? 1f / (1 + p.positionOf(s) % 3) : 0f; // your attention row over the slots
            }
            p.onAttention(0, 0, row, 0, Math.min(pos + 1, 4));
        }
        // end-snippet
        assertEquals(4, p.liveTokens());
        assertEquals(4, p.liveSlots(live));
        assertTrue(p.isLive(0) && p.isLive(3));
    }

    @Nested
    // snippet:eviction-conformance
    class KeyDiffConformanceTest extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyDiff(16, 2, 2);
        }
    }
    // end-snippet
}
