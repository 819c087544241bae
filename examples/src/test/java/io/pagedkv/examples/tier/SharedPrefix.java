package io.pagedkv.examples.tier;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.CheckpointReader;
import io.pagedkv.examples.llama.LlamaDecoder;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.redis.RedisBlockStore;
import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.LayoutFingerprint;
import io.pagedkv.tier.PrefixTier;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * What both processes of the sharing test agree on (the real stories260K model, an F32 layout of
 * 16-token blocks, a fingerprint with the checkpoint's digest, a 70-token prompt), and the second
 * process itself: {@link #main} prefills the prompt with the real decoder into its own cache, writes
 * the bytes of its full blocks to a file, and preempts the sequence in swap mode, which offloads those
 * blocks to Redis through a {@link PrefixTier}.
 */
final class SharedPrefix {

    static final int BLOCK = 16;
    static final int PROMPT = 70; // 4 full blocks before the last token
    static final int POOL_BLOCKS = 32;

    private SharedPrefix() {
    }

    static Path model() {
        String dir = System.getProperty("pagedkv.models.dir", "../../shared/models");
        return Path.of(dir).resolve("stories260K.bin").toAbsolutePath().normalize();
    }

    static int[] prompt() {
        int[] t = new int[PROMPT];
        t[0] = 1; // BOS
        for (int i = 1; i < PROMPT; i++) {
            t[i] = 3 + Math.floorMod(i * 2654435761L >>> 7, 509);
        }
        return t;
    }

    static CacheLayout layout(LlamaWeights w) {
        return new CacheLayout(w.config().shape("llama2.c"), KvDType.F32, BLOCK);
    }

    /** The model id is the checkpoint's SHA-256: two checkpoints of one shape never share blocks. */
    static LayoutFingerprint fingerprint(Path model, CacheLayout layout) throws IOException {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(model));
            return LayoutFingerprint.of("stories260K/" + HexFormat.of().formatHex(d, 0, 8), layout, null);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Greedy decode of {@code steps} tokens after {@code logits}. */
    static int[] greedy(LlamaDecoder decoder, float[] logits, int steps) {
        int[] out = new int[steps];
        float[] l = logits;
        for (int s = 0; s < steps; s++) {
            int best = 0;
            for (int i = 1; i < l.length; i++) {
                if (l[i] > l[best]) {
                    best = i;
                }
            }
            out[s] = best;
            if (s + 1 < steps) {
                l = decoder.forward(best);
            }
        }
        return out;
    }

    /** The second process: {@code <model> <redis url> <block dump file>}. */
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        LlamaWeights w = CheckpointReader.read(model);
        CacheLayout layout = layout(w);
        int[] prompt = prompt();
        try (PagedKvCache cache = new PagedKvCache(layout, POOL_BLOCKS);
                RedisBlockStore redis = RedisBlockStore.connect(args[1]);
                BlockTransferQueue queue = BlockTransferQueue.forLayout(redis, layout, 16, 16, 2);
                PrefixTier tier = PrefixTier.attach(cache, queue, fingerprint(model, layout))) {
            PrefixKvStore store = new PrefixKvStore(cache, prompt, 256);
            LlamaDecoder decoder = new LlamaDecoder(w, store);
            decoder.prefill(prompt);
            int full = store.sequence().commitPrefix();
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(args[2])))) {
                out.writeInt(full);
                for (int b = 0; b < full; b++) {
                    out.write(cache.block(store.sequence().blockId(b)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
            int offloaded = store.sequence().offloadPrefix(); // swap-mode preemption of the sequence
            store.close();
            if (!queue.awaitIdle(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("offloads did not finish: " + queue.stats());
            }
            System.out.println("peer prefilled " + prompt.length + " tokens, committed " + full + " blocks, offloaded "
                    + offloaded + "; " + queue.stats() + "; " + tier.stats());
            System.out.println("peer write done");
        }
    }
}
