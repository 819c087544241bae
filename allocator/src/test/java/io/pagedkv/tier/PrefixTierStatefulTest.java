package io.pagedkv.tier;

import static io.pagedkv.testfixtures.TierKv.LAYOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.testfixtures.TierKv;
import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two caches ("servers") over one small host tier (testkit stateful): admissions with and without a
 * tier lookup (awaited, or left pending and polled on later commands), decode steps, releases,
 * preemption with and without swap, pool floods that reclaim (and so offload) cached blocks, and
 * store faults (away, values corrupted in place, the first block of a prefix corrupted and looked up). Invariants after every command, on both servers:
 * <ul>
 *   <li><b>conservation:</b> {@code free + used + cached == total}, the free count taken from the
 *       blocks' reference counts (fresh blocks held by pending restores count as used);</li>
 *   <li><b>nothing served that was not written with the same key:</b> every free block is poisoned
 *       after every command, and every running sequence reads
 *       back, at every written position, the K/V of its own tokens, which depend on the whole prefix
 *       (checked also at admission, on the prefix it was served);</li>
 *   <li>at the end, with every sequence released and every restore ended, no block is in use.</li>
 * </ul>
 * Over the runs it asserts that restored blocks were admitted as prefix hits, that chains ended on
 * misses, rejected values and an unavailable store, and that pending restores were polled to the end.
 */
class PrefixTierStatefulTest {

    static final int BLOCKS = 14;
    static final int[][] PREFIXES = {TierKv.prompt(10, 13), TierKv.prompt(11, 9), TierKv.prompt(12, 17)};
    static final AtomicLong RESTORED_HITS = new AtomicLong();
    static final AtomicLong POLLED = new AtomicLong();
    static final AtomicLong ENDED_UNAVAILABLE = new AtomicLong();

    static final class Model {
        final List<Map<Integer, int[]>> running = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
        int nextKey;
    }

    static final class Server {
        final PrefixTierTest.Server s;
        final Map<Integer, StepSequence> seqs = new LinkedHashMap<>();
        final List<TierRestore> pending = new ArrayList<>();

        Server(BlockStore store) {
            s = new PrefixTierTest.Server(store, BLOCKS, 4, LayoutFingerprint.of(LAYOUT));
        }
    }

    static final class Sut {
        final HostMemoryStore host = HostMemoryStore.forLayout(LAYOUT, 24L * slotBytes());
        final GatedStore store = new GatedStore(host);
        final List<BlockKey> stored = new ArrayList<>();
        final Server[] servers = {new Server(store), new Server(store)};

        Sut() {
            host.addListener(e -> {
                if (e instanceof KvEvent.BlockStored b) {
                    synchronized (stored) {
                        stored.add(b.key());
                    }
                }
            });
        }

        static long slotBytes() {
            return BlockValueFormat.valueBytes(LAYOUT.blockSize(), LAYOUT.bytesPerBlock()) + 8;
        }

        void settle() throws InterruptedException {
            for (Server sv : servers) {
                assertTrue(sv.s.queue.awaitIdle(5, TimeUnit.SECONDS), "transfer queue idle");
            }
        }
    }

    /** How an admission uses the tier. */
    static final int NO_LOOKUP = 0;
    static final int AWAIT = 1;
    static final int LEAVE_PENDING = 2;

    record Admit(int server, int prefix, int[] suffix, int mode) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) throws Exception {
            Server sv = sut.servers[server];
            int[] base = PREFIXES[prefix];
            int[] prompt = Arrays.copyOf(base, base.length + suffix.length);
            System.arraycopy(suffix, 0, prompt, base.length, suffix.length);
            sut.settle(); // offloads of earlier commands have landed: a deterministic store
            if (mode != NO_LOOKUP) {
                TierRestore r = sv.s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
                if (r != null && mode == LEAVE_PENDING) {
                    sv.pending.add(r);
                    return;
                }
                if (r != null) {
                    int got = r.await(5, TimeUnit.SECONDS);
                    int cachedBefore = r.firstBlock() * LAYOUT.blockSize();
                    int probed = sv.s.planner.probe(prompt, prompt.length, PrefixKeys.NONE).cachedTokens();
                    assertTrue(probed >= cachedBefore + r.indexedBlocks() * LAYOUT.blockSize() || r.indexedBlocks() == 0,
                            "restored blocks are prefix hits: " + probed + " " + r);
                    if (got > 0) {
                        RESTORED_HITS.incrementAndGet();
                    }
                }
            }
            StepSequence seq = TierKv.prefill(sv.s.planner, sv.s.writer, prompt, PrefixKeys.NONE);
            if (seq != null) {
                int key = model.nextKey++;
                model.running.get(server).put(key, prompt);
                sv.seqs.put(key, seq);
            }
        }

        @Override
        public String toString() {
            return "admit(server " + server + ", prefix " + prefix + " + " + Arrays.toString(suffix)
                    + new String[] {"", ", lookup", ", lookup left pending"}[mode] + ")";
        }
    }

    record Poll(int server) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            Server sv = sut.servers[server];
            sv.pending.removeIf(r -> {
                boolean done = r.poll();
                if (done) {
                    POLLED.incrementAndGet();
                }
                return done;
            });
        }

        @Override
        public String toString() {
            return "poll(server " + server + ")";
        }
    }

    record Decode(int server, int key, int more) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.running.get(server).containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            Server sv = sut.servers[server];
            StepSequence seq = sv.seqs.get(key);
            int[] tokens = model.running.get(server).get(key);
            int[] longer = Arrays.copyOf(tokens, tokens.length + more);
            for (int i = tokens.length; i < longer.length; i++) {
                longer[i] = 600 + (i * 11 + key) % 5;
            }
            if (!sv.s.planner.schedule(seq, longer, tokens.length, more)) {
                return; // pool short: a real engine would preempt
            }
            StepPlan plan = sv.s.planner.plan();
            TierKv.writeRow(LAYOUT, sv.s.writer, plan, seq.row(), longer);
            sv.s.planner.complete(plan);
            model.running.get(server).put(key, longer);
        }

        @Override
        public String toString() {
            return "decode(server " + server + ", s" + key + ", +" + more + ")";
        }
    }

    record End(int server, int key, int how) implements Command<Model, Sut> {
        @Override
        public boolean precondition(Model model) {
            return model.running.get(server).containsKey(key);
        }

        @Override
        public void run(Model model, Sut sut) {
            Server sv = sut.servers[server];
            StepSequence seq = sv.seqs.remove(key);
            model.running.get(server).remove(key);
            switch (how) {
                case 0 -> sv.s.planner.release(seq);
                case 1 -> sv.s.planner.preempt(seq);
                default -> sv.s.planner.preemptAndOffload(seq);
            }
        }

        @Override
        public String toString() {
            return new String[] {"release", "preempt", "preempt in swap mode"}[how] + "(server " + server + ", s" + key + ")";
        }
    }

    /** A plain request as large as the pool allows: every cached block is reclaimed (offloaded). */
    record Flood(int server) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) {
            Server sv = sut.servers[server];
            int tokens = (sv.s.cache.availableBlocks() - 1) * LAYOUT.blockSize();
            if (tokens < 2 || sv.s.planner.running() > 0) {
                return;
            }
            StepSequence hog = TierKv.prefill(sv.s.planner, sv.s.writer, TierKv.prompt(900 + model.nextKey, tokens),
                    PrefixKeys.salted(3));
            if (hog != null) {
                sv.s.planner.release(hog);
            }
        }

        @Override
        public String toString() {
            return "flood(server " + server + ")";
        }
    }

    /** 0: the store comes back; 1: the store goes away; 2: one stored value corrupted in place. */
    record StoreFault(int kind, int pick) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) throws Exception {
            sut.settle();
            switch (kind) {
                case 0 -> sut.store.unavailable = false;
                case 1 -> sut.store.unavailable = true;
                default -> {
                    synchronized (sut.stored) {
                        if (!sut.stored.isEmpty()) {
                            BlockKey k = sut.stored.get(pick % sut.stored.size());
                            sut.host.corruptForTest(k, pick % 64 + 48); // a token id or payload byte
                        }
                    }
                }
            }
        }

        @Override
        public String toString() {
            return new String[] {"store back", "store away", "corrupt a stored value #" + pick}[kind];
        }
    }

    /**
     * Corrupts the stored first block of a prefix (if the store holds it), drops the server's pool
     * index so that only the tier can help, and looks the prefix up: the damaged block must end the
     * chain at once, nothing restored.
     */
    record CorruptFirstBlock(int server, int prefix) implements Command<Model, Sut> {
        @Override
        public void run(Model model, Sut sut) throws Exception {
            sut.settle();
            boolean wasStored = sut.store.unavailable ? false : sut.host.contains(firstKey(prefix));
            if (wasStored) {
                assertTrue(sut.host.corruptForTest(firstKey(prefix), 120)); // a payload byte StoreFault never flips
            }
            Server sv = sut.servers[server];
            sv.s.cache.resetPrefixCache();
            long rejected = sv.s.tier.stats().endedByRejected();
            int[] prompt = PREFIXES[prefix];
            TierRestore r = sv.s.tier.lookup(prompt, prompt.length, PrefixKeys.NONE);
            if (r == null) {
                // No free block for a restore right now. Undo the damage (the flip is its own inverse): left
                // in place unread, a later corruption of the same value would flip it back to valid.
                if (wasStored) {
                    assertTrue(sut.host.corruptForTest(firstKey(prefix), 120));
                }
                return;
            }
            assertEquals(0, r.await(5, TimeUnit.SECONDS), "a corrupt first block restores nothing");
            if (wasStored) {
                assertEquals(rejected + 1, sv.s.tier.stats().endedByRejected(), "the chain ended on the damage");
                CORRUPT_CHAINS.incrementAndGet();
            }
        }

        @Override
        public String toString() {
            return "corrupt the stored first block of prefix " + prefix + ", look it up on server " + server;
        }
    }

    static BlockKey firstKey(int prefix) {
        long h = io.pagedkv.cache.PrefixHasher.standard().hash(io.pagedkv.cache.PrefixHasher.ROOT, PREFIXES[prefix], 0,
                LAYOUT.blockSize(), 0);
        return LayoutFingerprint.of(LAYOUT).key(h, 0);
    }

    static final AtomicLong CORRUPT_CHAINS = new AtomicLong();

    static final class Machine implements StateMachine<Model, Sut> {
        @Override
        public Model initialModel() {
            return new Model();
        }

        @Override
        public Sut newSystem() {
            return new Sut();
        }

        @Override
        public Gen<Command<Model, Sut>> commands(Model model) {
            Gen<Integer> server = Gens.ints(0, 1);
            Gen<int[]> suffix = Gens.intArrays(Gens.ints(700, 701), 0, 5);
            Gen<Command<Model, Sut>> admit = Gens.zip(server, Gens.ints(0, PREFIXES.length - 1), suffix,
                    Gens.frequency(1, Gens.constant(NO_LOOKUP), 4, Gens.ints(AWAIT, LEAVE_PENDING)), Admit::new);
            Gen<Command<Model, Sut>> poll = server.map(Poll::new);
            Gen<Command<Model, Sut>> flood = server.map(Flood::new);
            Gen<Command<Model, Sut>> fault = Gens.zip(Gens.frequency(3, Gens.constant(0), 1, Gens.ints(1, 2)),
                    Gens.ints(0, 1000), StoreFault::new);
            Gen<Command<Model, Sut>> corrupt = Gens.zip(server, Gens.ints(0, PREFIXES.length - 1), CorruptFirstBlock::new);
            List<Gen<Command<Model, Sut>>> gens = new ArrayList<>(List.of(admit, admit, admit, poll, flood, fault, corrupt));
            for (int sv = 0; sv < 2; sv++) {
                if (!model.running.get(sv).isEmpty()) {
                    Gen<Integer> key = Gens.elements(new ArrayList<>(model.running.get(sv).keySet()));
                    int s = sv;
                    gens.add(Gens.zip(key, Gens.ints(1, 5), (k, m) -> new Decode(s, k, m)));
                    gens.add(Gens.zip(key, Gens.ints(0, 2), (k, h) -> new End(s, k, h)));
                    gens.add(Gens.zip(key, Gens.ints(0, 2), (k, h) -> new End(s, k, h)));
                }
            }
            @SuppressWarnings({"unchecked", "rawtypes"})
            Gen<Command<Model, Sut>>[] arr = gens.toArray(new Gen[0]);
            return Gens.choose(arr);
        }

        @Override
        public void invariants(Model model, Sut sut) {
            for (int i = 0; i < 2; i++) {
                Server sv = sut.servers[i];
                TierKv.assertConserved(sv.s.cache);
                for (Map.Entry<Integer, int[]> e : model.running.get(i).entrySet()) {
                    TierKv.assertReadsBack(LAYOUT, sv.seqs.get(e.getKey()), e.getValue());
                }
                TierKv.poisonFreeBlocks(sv.s.cache); // a block reused unwritten reads as poison later
            }
        }

        @Override
        public void close(Sut sut) {
            try {
                for (Server sv : sut.servers) {
                    for (StepSequence seq : sv.seqs.values()) {
                        sv.s.planner.release(seq);
                    }
                    for (TierRestore r : sv.pending) {
                        r.cancel();
                    }
                    TierKv.assertConserved(sv.s.cache);
                    assertEquals(0, sv.s.cache.stats().usedBlocks(), "every block back once all ended");
                    ENDED_UNAVAILABLE.addAndGet(sv.s.tier.stats().endedByUnavailable());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                for (Server sv : sut.servers) {
                    sv.s.close();
                }
                sut.host.close();
            }
        }
    }

    @Test
    void blocksAreConservedAndNothingIsServedThatWasNotWrittenForTheSameTokensAcrossTwoCachesAndStoreFaults() {
        long hits = RESTORED_HITS.get();
        long polled = POLLED.get();
        Stateful.of(new Machine()).steps(40).tries(60).check();
        assertTrue(RESTORED_HITS.get() > hits, "some admissions reused restored blocks");
        assertTrue(POLLED.get() > polled, "pending restores were polled to their end");
        assertTrue(CORRUPT_CHAINS.get() > 0, "chains ended on corrupted values");
        assertTrue(ENDED_UNAVAILABLE.get() > 0, "chains ended on an unavailable store");
    }
}
