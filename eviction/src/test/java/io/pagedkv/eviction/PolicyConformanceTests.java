package io.pagedkv.eviction;

import io.pagedkv.eviction.conformance.EvictionPolicyConformance;
import org.junit.jupiter.api.Nested;

/** The conformance kit run against every built-in policy, token- and block-granular. */
class PolicyConformanceTests {

    @Nested
    class Window extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SlidingWindow(12);
        }
    }

    @Nested
    class WindowByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SlidingWindow(12, 4);
        }
    }

    @Nested
    class Sinks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new AttentionSinks(4, 8, 1);
        }
    }

    @Nested
    class SinksByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new AttentionSinks(4, 8, 4);
        }
    }

    @Nested
    class H2oSum extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new HeavyHitters(6, 6, HeavyHitters.Accumulation.SUM);
        }
    }

    @Nested
    class H2oNormSumByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new HeavyHitters(6, 6, HeavyHitters.Accumulation.NORM_SUM, 4);
        }
    }

    @Nested
    class TovaPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new Tova(12);
        }
    }

    @Nested
    class KeyNormPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyNorm(12, 2, 4);
        }
    }
}
