package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The open-addressing index agrees with a HashMap under any insert/delete sequence, full table included. */
class SlotIndexTest {

    @Test
    void indexFindsExactlyTheSlotsAHashMapHoldsAfterAnyInsertDeleteSequence() {
        Property.forAll(Gens.ints(1, 12), Gens.lists(Gens.ints(0, 40), 0, 200)).check((slots, ops) -> {
            long[] fp = new long[slots];
            long[] hash = new long[slots];
            long[] salt = new long[slots];
            SlotIndex index = new SlotIndex(slots, fp, hash, salt);
            Map<List<Long>, Integer> model = new HashMap<>();
            Integer[] owner = new Integer[slots];
            for (int op : ops) {
                // keys from a small universe with few distinct fields: home collisions are common
                long f = op % 2;
                long h = op % 5;
                long s = op / 10;
                List<Long> key = List.of(f, h, s);
                Integer at = model.get(key);
                if (at != null) {
                    index.delete(at);
                    model.remove(key);
                    owner[at] = null;
                } else {
                    int free = -1;
                    for (int i = 0; i < slots && free < 0; i++) {
                        if (owner[i] == null) {
                            free = i;
                        }
                    }
                    if (free >= 0) {
                        fp[free] = f;
                        hash[free] = h;
                        salt[free] = s;
                        index.insert(free);
                        model.put(key, free);
                        owner[free] = op;
                    }
                }
                for (int u = 0; u < 40; u++) {
                    Integer expected = model.get(List.of((long) (u % 2), (long) (u % 5), (long) (u / 10)));
                    assertEquals(expected == null ? -1 : expected, index.find(u % 2, u % 5, u / 10), "key of " + u);
                }
            }
        });
    }
}
