package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Command;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.StateMachine;
import io.pagedkv.testkit.Stateful;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The host-memory tier against {@link StoreModel} (testkit stateful): put, get (right and wrong
 * tokens or parent), contains, remove, clear and damage of a stored byte, on a store of 4 slots under
 * colliding keys. After every step: the store holds exactly the model's keys in its LRU order (the
 * next eviction proves it), every hit returns exactly the bytes put, a damaged value is rejected and
 * dropped, the counters and the event stream equal the model's.
 */
class HostMemoryStoreStateMachineTest {

    static final int SLOTS = 4;
    static final long VALUE_BYTES = BlockValueFormat.valueBytes(StoreModel.TOKENS, StoreModel.PAYLOAD);

    static final class Sut {
        final HostMemoryStore store = new HostMemoryStore(SLOTS * 136L + 100, StoreModel.TOKENS, StoreModel.PAYLOAD);
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        Sut() {
            store.addListener(e -> events.add(StoreModel.describe(e)));
        }
    }

    record Put(int id, int tokenSeed, long payloadSeed) implements Command<StoreModel, Sut> {
        public void run(StoreModel m, Sut s) {
            assertTrue(s.store.put(StoreModel.key(id), tokenSeed, StoreModel.tokens(tokenSeed), 0, StoreModel.TOKENS,
                    Blocks.payload(payloadSeed, StoreModel.PAYLOAD)));
            m.put(id, new StoreModel.Value(tokenSeed, tokenSeed, payloadSeed));
        }
    }

    record Get(int id, int tokenSeed) implements Command<StoreModel, Sut> {
        public void run(StoreModel m, Sut s) {
            MemorySegment dst = MemorySegment.ofArray(new byte[StoreModel.PAYLOAD]);
            int r = s.store.get(StoreModel.key(id), tokenSeed, StoreModel.tokens(tokenSeed), 0, StoreModel.TOKENS, dst);
            m.checkGet(id, tokenSeed, tokenSeed, r, dst);
        }
    }

    record Remove(int id) implements Command<StoreModel, Sut> {
        public void run(StoreModel m, Sut s) {
            assertEquals(m.remove(id), s.store.remove(StoreModel.key(id)));
        }
    }

    record Clear() implements Command<StoreModel, Sut> {
        public void run(StoreModel m, Sut s) {
            s.store.clear();
            m.clear();
        }
    }

    record Damage(int id, int offset) implements Command<StoreModel, Sut> {
        public boolean precondition(StoreModel m) {
            return m.lru.containsKey(id) && !m.damaged.contains(id); // a second flip of the same byte would undo the first
        }

        public void run(StoreModel m, Sut s) {
            assertTrue(s.store.corruptForTest(StoreModel.key(id), offset % VALUE_BYTES));
            m.damaged.add(id);
        }
    }

    static final class Machine implements StateMachine<StoreModel, Sut> {
        public StoreModel initialModel() {
            return new StoreModel(SLOTS);
        }

        public Sut newSystem() {
            return new Sut();
        }

        public Gen<Command<StoreModel, Sut>> commands(StoreModel m) {
            Gen<Integer> ids = Gens.ints(0, StoreModel.KEYS - 1);
            Gen<Integer> seeds = Gens.ints(0, 2);
            Gen<Command<StoreModel, Sut>> put = Gens.zip(ids, seeds, Gens.longs(0, 1000), Put::new);
            Gen<Command<StoreModel, Sut>> get = Gens.zip(ids, seeds, Get::new);
            Gen<Command<StoreModel, Sut>> remove = ids.map(Remove::new);
            Gen<Command<StoreModel, Sut>> clear = in -> new Clear();
            Gen<Command<StoreModel, Sut>> damage = Gens.zip(ids, Gens.ints(0, 1000), Damage::new);
            return Gens.frequency(5, put, 5, get, 2, Gens.choose(remove, damage, remove, damage, clear));
        }

        public void invariants(StoreModel m, Sut s) {
            m.checkStats(s.store, VALUE_BYTES);
            assertEquals(m.events, s.events, "events");
        }

        public void close(Sut s) {
            s.store.close();
        }
    }

    @Test
    void hostTierIsAnLruOfVerifiedValuesUnderAnySequence() {
        Stateful.of(new Machine()).steps(60).check();
    }

    @Test
    void aFullStoreEvictsTheLeastRecentlyUsedNotTheLeastRecentlyStored() {
        Stateful.replay(new Machine(), new Put(0, 0, 1), new Put(1, 0, 2), new Put(2, 0, 3), new Put(3, 0, 4),
                new Get(0, 0), new Put(4, 0, 5), new Get(1, 0), new Get(0, 0));
    }
}
