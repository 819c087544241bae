package io.pagedkv.examples.simulate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes a {@link SimulationComparison} as JSON: the same figures as the table, machine-readable
 * (bytes as integers, ratios in [0, 1]). Stateless.
 */
public final class SimulationJson {

    private SimulationJson() {
    }

    /** Writes one JSON object to {@code out} (not closed). */
    public static void write(SimulationComparison c, Writer out) {
        SimulationConfig cfg = c.config();
        try (JsonGenerator g = JsonFactory.builder().build().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("model", cfg.model().name());
            g.writeStringField("kvDtype", cfg.dtype().label());
            g.writeNumberField("memoryBytes", cfg.memoryBytes());
            g.writeNumberField("bytesPerToken", cfg.layout().bytesPerToken());
            g.writeStringField("workload", cfg.workload().label());
            g.writeNumberField("requests", c.trace().size());
            g.writeNumberField("seed", cfg.seed());
            g.writeNumberField("maxContext", cfg.maxContext());
            g.writeNumberField("blockSize", cfg.blockSize());
            g.writeNumberField("pagedBlocks", c.pagedBlocks());
            g.writeNumberField("pagedScale", c.pagedScale());
            g.writeNumberField("pagedTokensWritten", c.pagedTokensWritten());
            if (c.hostTier() != null) {
                g.writeNumberField("hostTierBytes", c.hostTierBytes());
                g.writeNumberField("hostTierBlocks", c.hostTierBlocks());
                g.writeNumberField("hostTierTokensRestored", c.hostTier().tokensRestored());
                g.writeNumberField("hostTierOffloads", c.hostTier().offloadsOffered());
                g.writeNumberField("hostTierOffloadsDropped", c.hostTier().offloadsDropped());
            }
            g.writeStringField("policy", cfg.policy().label());
            g.writeNumberField("kvBudget", cfg.policy() == EvictionChoice.NONE ? 0 : cfg.kvBudget());
            g.writeNumberField("meanPromptTokens", c.trace().meanPromptTokens());
            g.writeNumberField("meanOutputTokens", c.trace().meanOutputTokens());
            g.writeNumberField("sharedPrefixShare", c.trace().sharedPrefixShare());
            if (c.hasHybrid()) {
                g.writeStringField("layerGroups", c.groups().toString());
                g.writeNumberField("hybridBlocks", c.hybridBlocks());
                g.writeNumberField("hybridBlockBytes", c.hybridBlockBytes());
            }
            g.writeArrayFieldStart("results");
            for (SimulationResult r : c.results()) {
                g.writeStartObject();
                g.writeStringField("strategy", r.strategy());
                g.writeNumberField("finished", r.finished());
                g.writeNumberField("steps", r.steps());
                g.writeNumberField("capacityBytes", r.capacityBytes());
                g.writeNumberField("peakConcurrency", r.peakConcurrency());
                g.writeNumberField("meanConcurrency", r.meanConcurrency());
                g.writeNumberField("peakLiveBytes", r.peakLiveBytes());
                g.writeNumberField("meanLiveBytes", Math.round(r.meanLiveBytes()));
                g.writeNumberField("meanReservedBytes", Math.round(r.meanReservedBytes()));
                g.writeNumberField("meanInternalFragmentationBytes", Math.round(r.meanInternalBytes()));
                g.writeNumberField("meanExternalFragmentationBytes", Math.round(r.meanExternalBytes()));
                g.writeNumberField("waste", r.waste());
                g.writeNumberField("preemptions", r.preemptions());
                g.writeNumberField("promptTokens", r.promptTokens());
                g.writeNumberField("prefixHitTokens", r.prefixHitTokens());
                g.writeNumberField("prefixHitRate", r.prefixHitRate());
                g.writeNumberField("tokensEvicted", r.tokensEvicted());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
