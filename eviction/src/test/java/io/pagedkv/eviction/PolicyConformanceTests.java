package io.pagedkv.eviction;

import io.pagedkv.eviction.HeavyHitters.Accumulation;
import io.pagedkv.eviction.conformance.EvictionPolicyConformance;
import io.pagedkv.eviction.conformance.PolicyDriver;
import org.junit.jupiter.api.Nested;

/**
 * The conformance kit run against every built-in policy: token-granular, block-granular (quantum 4)
 * and with a ratio budget; plus a query-reading test policy so that the query hook is exercised.
 */
class PolicyConformanceTests {

    static final Budget RATIO = Budget.ratio(0.3, 12);

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
            return new SlidingWindow(Budget.tokens(12), 4);
        }
    }

    @Nested
    class WindowByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SlidingWindow(RATIO, 1);
        }
    }

    @Nested
    class Sinks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new AttentionSinks(12, 4);
        }
    }

    @Nested
    class SinksByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new AttentionSinks(Budget.tokens(16), 2, 4);
        }
    }

    @Nested
    class SinksByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new AttentionSinks(RATIO, 4, 1);
        }
    }

    @Nested
    class H2oSum extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new HeavyHitters(12, 6, Accumulation.SUM);
        }
    }

    @Nested
    class H2oNormSumByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new HeavyHitters(Budget.tokens(12), 6, Accumulation.NORM_SUM, 4);
        }
    }

    @Nested
    class H2oByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new HeavyHitters(RATIO, 4, Accumulation.SUM, 1);
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
    class TovaByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new Tova(RATIO, 1);
        }
    }

    @Nested
    class TovaByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new Tova(Budget.tokens(12), 4);
        }
    }

    @Nested
    class KeyNormByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyNorm(RATIO, 2, 4, 1);
        }
    }

    @Nested
    class KeyNormPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyNorm(12, 2, 4);
        }
    }

    @Nested
    class KeyNormByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyNorm(Budget.tokens(16), 2, 4, 4);
        }
    }

    @Nested
    class KeyDiffPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyDiff(12, 2, 2);
        }
    }

    @Nested
    class KeyDiffByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyDiff(RATIO, 2, 2, 1);
        }
    }

    @Nested
    class KeyDiffByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new KeyDiff(Budget.tokens(16), 2, 2, 4);
        }
    }

    @Nested
    class LagKvPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new LagKv(13, 2, 5);
        }
    }

    @Nested
    class LagKvByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new LagKv(Budget.ratio(0.3, 13), 2, 5, 1);
        }
    }

    @Nested
    class LagKvByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new LagKv(Budget.tokens(16), 2, 3, 4);
        }
    }

    @Nested
    class Random extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new RandomEviction(12, 7);
        }
    }

    @Nested
    class RandomProtectedByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new RandomEviction(Budget.tokens(16), 2, 3, 4, 7);
        }
    }

    @Nested
    class RandomByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new RandomEviction(RATIO, 0, 0, 1, 7);
        }
    }

    @Nested
    class SnapKvPolicy extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SnapKv(12, 3, 3);
        }
    }

    @Nested
    class SnapKvByRatio extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SnapKv(RATIO, 3, 5, 1);
        }
    }

    @Nested
    class SnapKvByBlocks extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new SnapKv(Budget.tokens(16), 2, 3, 4);
        }
    }

    /** PyramidKV's top and bottom layers (the schedule's extremes at a uniform budget of 12 over 4 layers). */
    @Nested
    class PyramidKvTopLayer extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return LayerPolicy.PYRAMIDKV.create(12, 4)[3];
        }
    }

    @Nested
    class PyramidKvBottomLayer extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return LayerPolicy.PYRAMIDKV.create(12, 4)[0];
        }
    }

    @Nested
    class QueryDot extends EvictionPolicyConformance {
        @Override
        protected EvictionPolicy newPolicy() {
            return new QueryDotPolicy(Budget.tokens(12), 2, PolicyDriver.HEAD_DIM);
        }
    }
}
