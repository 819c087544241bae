package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Generators are deterministic functions of the recorded choices; replay rules are exact. */
class ChoicesTest {

    @Test
    void replayingTheRecordedChoicesRegeneratesTheSameValueForEveryStandardGenerator() {
        List<Gen<?>> gens = List.of(Gens.ints(-1000, 1000), Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE),
                Gens.booleans(), Gens.floats(), Gens.finiteFloats(-3f, 1e6f),
                Gens.floatArrays(Gens.floats(), 0, 20).map(Arrays::toString),
                Gens.lists(Gens.lists(Gens.ints(0, 9), 0, 3), 0, 5), Gens.oneOf("a", "b", "c"),
                Gens.shuffled(List.of(1, 2, 3, 4)), Gens.frequency(1, Gens.constant(0), 3, Gens.ints(5, 9)),
                Gens.ints(0, 50).filter(x -> x % 3 == 0), Gens.ints(1, 4).flatMap(n -> Gens.lists(Gens.booleans(), n, n)));
        for (Gen<?> gen : gens) {
            for (int i = 0; i < 200; i++) {
                Choices fresh = Choices.random(Runner.caseSeed(21, i));
                Object value = gen.generate(fresh);
                Choices replay = Choices.replay(fresh.recorded());
                Object again = gen.generate(replay);
                assertEquals(value instanceof Float f ? Float.floatToRawIntBits(f) : value,
                        again instanceof Float f ? Float.floatToRawIntBits(f) : again);
                assertArrayEquals(fresh.recorded(), replay.recorded());
            }
        }
    }

    @Test
    void replayLowersChoicesAboveTheirBoundAndPadsWithZeros() {
        Choices in = Choices.replay(new long[] {7, 100});
        assertEquals(7, in.draw(10));
        assertEquals(10, in.draw(10));
        assertEquals(0, in.draw(10));
        assertArrayEquals(new long[] {7, 10, 0}, in.recorded());
        assertArrayEquals(new long[] {10, 10, 10}, in.bounds());
    }

    @Test
    void spansRecordTheirChoicesAndEmptyOnesAreDropped() {
        Choices in = Choices.replay(new long[] {1, 2, 3});
        int outer = in.startSpan();
        in.draw(5);
        int inner = in.startSpan();
        in.draw(5);
        in.endSpan(inner);
        in.endSpan(in.startSpan());
        in.endSpan(outer);
        assertArrayEquals(new int[] {1, 2, 0, 2}, in.spans());
        assertEquals("start: 9 (expected: 0..2)", assertThrows(IllegalArgumentException.class, () -> in.endSpan(9)).getMessage());
    }

    @Test
    void anUnboundedGeneratorIsDiscardedAtTheDrawCap() {
        Choices in = Choices.random(1);
        assertThrows(Discard.class, () -> {
            while (true) {
                in.draw(1);
            }
        });
        assertEquals(Choices.MAX_DRAWS, in.size());
    }
}
