package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * Prints a {@link SimulationComparison} as a side-by-side table for people. Stateless.
 */
public final class SimulationReport {

    private SimulationReport() {
    }

    /** Writes the header, the table and the headline ratios to {@code out}. */
    public static void print(SimulationComparison c, PrintWriter out) {
        SimulationConfig cfg = c.config();
        CacheLayout layout = cfg.layout();
        out.printf(Locale.ROOT, "pagedkv simulate: %s, %s KV cache (%,d bytes/token), %s budget%n",
                cfg.model().name(), cfg.dtype(), layout.bytesPerToken(), gib(cfg.memoryBytes()));
        out.printf(Locale.ROOT, "workload %s: %d requests (seed %d), mean prompt %.1f, mean output %.1f tokens, context %d%n",
                cfg.workload(), c.trace().size(), cfg.seed(), c.trace().meanPromptTokens(), c.trace().meanOutputTokens(),
                cfg.maxContext());
        if (c.trace().sharedPrefixShare() > 0) {
            out.printf(Locale.ROOT, "prompt tokens repeating an earlier request's (what a perfect prefix cache reuses): %.1f%%%n",
                    100 * c.trace().sharedPrefixShare());
        }
        out.printf(Locale.ROOT, "paged: %,d blocks of %d tokens (%,d bytes each); policy %s%n", c.pagedBlocks(),
                cfg.blockSize(), layout.bytesPerBlock(), cfg.policy() == EvictionChoice.NONE ? "none"
                        : cfg.policy().create(cfg.kvBudget()).name() + " per request (paged only: the baselines keep every token)");
        out.printf(Locale.ROOT, "paged K/V really written into a PagedKvCache at 1/%,.0f scale (1 layer, 1 KV head, head dim %d): "
                + "%,d tokens%n", c.pagedScale(), c.pagedStorageHeadDim(), c.pagedTokensWritten());
        if (c.hasHybrid()) {
            out.printf(Locale.ROOT, "layer groups %s: %s pool of %,d blocks of %d tokens (%,d bytes each: one group's %d layers),"
                    + " sliding groups free blocks outside the window; paged treats every layer as global%n", c.groups(),
                    SimulationComparison.HYBRID, c.hybridBlocks(), cfg.blockSize(), c.hybridBlockBytes(),
                    c.groups().layersPerGroup());
        }
        if (c.hostTierBytes() > 0) {
            out.printf(Locale.ROOT, "paged+host: the same pool over a host-memory tier of %s (%,d blocks, stored at the"
                    + " same scale): reclaimed prefix blocks are offloaded there and restored on a prefix miss%n",
                    gib(c.hostTierBytes()), c.hostTierBlocks());
        }
        if (c.prefillTokensPerStep() > 0) {
            out.printf(Locale.ROOT, "prefill budget: %,d prompt tokens computed per step (cached tokens cost nothing)%n",
                    c.prefillTokensPerStep());
        }
        out.println("contiguous baselines are bookkeeping only (first-fit regions, nothing written)");
        out.println();
        List<SimulationResult> rs = c.results();
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-26s", ""));
        for (SimulationResult r : rs) {
            header.append(String.format(Locale.ROOT, "%16s", r.strategy()));
        }
        out.println(header);
        row(out, "requests finished", rs, r -> String.format(Locale.ROOT, "%d/%d", r.finished(), r.requests()));
        row(out, "steps", rs, r -> String.format(Locale.ROOT, "%,d", r.steps()));
        row(out, "peak concurrency", rs, r -> String.format(Locale.ROOT, "%,d", r.peakConcurrency()));
        row(out, "mean concurrency", rs, r -> String.format(Locale.ROOT, "%.1f", r.meanConcurrency()));
        row(out, "KV used (mean)", rs, r -> gib(r.meanLiveBytes()));
        row(out, "KV reserved (mean)", rs, r -> gib(r.meanReservedBytes()));
        row(out, "internal frag. (mean)", rs, r -> gib(r.meanInternalBytes()));
        row(out, "external frag. (mean)", rs, r -> gib(r.meanExternalBytes()));
        row(out, "waste", rs, r -> String.format(Locale.ROOT, "%.1f%%", 100 * r.waste()));
        row(out, "preemptions", rs, r -> String.format(Locale.ROOT, "%,d", r.preemptions()));
        row(out, "prefix-cache hit rate", rs, r -> String.format(Locale.ROOT, "%.1f%%", 100 * r.prefixHitRate()));
        row(out, "tokens evicted", rs, r -> String.format(Locale.ROOT, "%,d", r.tokensEvicted()));
        out.println();
        SimulationResult paged = rs.get(0);
        if (c.hostTierBytes() > 0) {
            SimulationResult tiered = rs.get(1);
            var st = c.hostTier();
            out.printf(Locale.ROOT, "host tier: prefix-cache hit rate %.1f%% vs %.1f%% without (%,d tokens restored from host"
                    + " memory in %,d lookups, %,d blocks offloaded, %,d dropped); %.2fx mean concurrency, %.2fx peak,"
                    + " %.2fx fewer steps, %,d vs %,d preemptions%n", 100 * tiered.prefixHitRate(), 100 * paged.prefixHitRate(),
                    st.tokensRestored(), st.lookups(), st.offloadsOffered() - st.offloadsDropped(), st.offloadsDropped(),
                    tiered.meanConcurrency() / paged.meanConcurrency(),
                    (double) tiered.peakConcurrency() / paged.peakConcurrency(), (double) paged.steps() / tiered.steps(),
                    tiered.preemptions(), paged.preemptions());
        }
        for (int i = c.hostTierBytes() > 0 ? 2 : 1; i < rs.size(); i++) {
            SimulationResult base = rs.get(i);
            if (base.strategy().equals(SimulationComparison.HYBRID)) {
                continue;
            }
            out.printf(Locale.ROOT, "paged vs %s: %.2fx mean concurrency, %.2fx peak concurrency, %.2fx fewer steps%n",
                    base.strategy(), paged.meanConcurrency() / base.meanConcurrency(),
                    (double) paged.peakConcurrency() / base.peakConcurrency(), (double) base.steps() / paged.steps());
        }
        if (c.hasHybrid()) {
            SimulationResult hybrid = c.result(SimulationComparison.HYBRID);
            out.printf(Locale.ROOT, "%s vs paged (all layers global), same memory: %.2fx mean concurrency, %.2fx peak"
                    + " concurrency, %.2fx fewer steps%n", SimulationComparison.HYBRID,
                    hybrid.meanConcurrency() / paged.meanConcurrency(),
                    (double) hybrid.peakConcurrency() / paged.peakConcurrency(), (double) paged.steps() / hybrid.steps());
        }
        out.flush();
    }

    /** {@code bytes} in GiB with two decimals, e.g. {@code 3.75 GiB}. */
    public static String gib(double bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1L << 30));
    }

    private interface Cell {
        String of(SimulationResult r);
    }

    private static void row(PrintWriter out, String label, List<SimulationResult> rs, Cell cell) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s", label));
        for (SimulationResult r : rs) {
            sb.append(String.format(Locale.ROOT, "%16s", cell.of(r)));
        }
        out.println(sb);
    }
}
