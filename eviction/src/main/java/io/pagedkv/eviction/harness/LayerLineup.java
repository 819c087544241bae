package io.pagedkv.eviction.harness;

import io.pagedkv.eviction.EvictionPolicy;
import java.util.function.Supplier;

/**
 * A per-layer line-up for {@link Harness#run}: a table name and a supplier of fresh policies, one per
 * trace layer (bottom first). Immutable; thread-safe if the supplier is.
 *
 * @param name the row's name
 * @param policies fresh policies, one per layer, each call
 */
public record LayerLineup(String name, Supplier<EvictionPolicy[]> policies) {

    /** Checks both are present. */
    public LayerLineup {
        if (name == null || policies == null) {
            throw new IllegalArgumentException("name, policies: " + name + ", " + policies + " (expected: non-null)");
        }
    }
}
