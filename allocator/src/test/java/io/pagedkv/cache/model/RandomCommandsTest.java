package io.pagedkv.cache.model;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random command sequences (open / append / write / fork / write-after-fork / close /
 * exhaust) against {@link CacheModel}, checked after every command. A failure names the seed and the
 * commands so far. The testkit-based {@code AllocatorStateMachineTest} adds shrinking.
 */
class RandomCommandsTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);
    static final int BLOCKS = 10;
    static final int STEPS = 60;

    static CacheCommand next(Random r, CacheModel model) {
        List<CacheModel.Seq> open = model.open();
        if (open.isEmpty() || r.nextInt(12) == 0) {
            return new CacheCommand.Open();
        }
        CacheModel.Seq s = open.get(r.nextInt(open.size()));
        int pick = r.nextInt(100);
        if (pick < 30) {
            return new CacheCommand.Append(s.key(), 1 + r.nextInt(r.nextBoolean() ? 3 : 14));
        } else if (pick < 60 && s.length() > 0) {
            return new CacheCommand.Write(s.key(), r.nextInt(s.length()), r.nextInt(50));
        } else if (pick < 75) {
            return new CacheCommand.Fork(s.key());
        } else if (pick < 92) {
            return new CacheCommand.Close(s.key());
        } else {
            return new CacheCommand.Exhaust(s.key());
        }
    }

    @Test
    void everyCommandKeepsConservationOwnershipAndExactReadback() {
        int tries = Integer.getInteger("pagedkv.tries", 100);
        for (long seed = 0; seed < tries; seed++) {
            runOne(seed);
        }
    }

    static void runOne(long seed) {
        Random r = new Random(seed);
        CacheModel model = new CacheModel(BLOCKS, LAYOUT.blockSize());
        List<CacheCommand> done = new ArrayList<>();
        try (CacheSystem sut = new CacheSystem(LAYOUT, BLOCKS)) {
            for (int step = 0; step < STEPS; step++) {
                CacheCommand c = next(r, model);
                done.add(c);
                c.run(model, sut);
                sut.check(model);
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + " failed after " + done + ": " + e.getMessage(), e);
        }
    }
}
