package io.pagedkv.examples.plan;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.plan.AttentionKernel;
import io.pagedkv.plan.MemoryPlan;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * Renders a {@link MemoryPlan} as the JSON of {@code pagedkv plan --json}: the same figures as the
 * table, all sizes in bytes; a largest context or concurrency is a number, or {@code null} when
 * unlimited. Stateless.
 */
final class PlanJson {

    private static final JsonFactory JSON = new JsonFactory();

    private PlanJson() {
    }

    static void write(MemoryPlan p, String memorySource, PrintWriter out) {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            ModelShape s = p.shape();
            g.writeObjectFieldStart("model");
            g.writeStringField("name", s.name());
            g.writeNumberField("layers", s.layers());
            g.writeNumberField("queryHeads", s.queryHeads());
            g.writeNumberField("kvHeads", s.kvHeads());
            g.writeNumberField("headDim", s.headDim());
            g.writeNumberField("slidingWindow", s.slidingWindow());
            g.writeStringField("pattern", s.pattern().name());
            g.writeNumberField("parameters", s.parameters());
            g.writeEndObject();
            g.writeObjectFieldStart("workload");
            g.writeNumberField("contextTokens", p.contextTokens());
            g.writeNumberField("concurrency", p.concurrency());
            g.writeStringField("kvDtype", p.kvDtype().label());
            g.writeNumberField("blockSize", p.blockSize());
            g.writeStringField("weights", p.weights().name());
            g.writeNumberField("bitsPerWeight", p.weights().bitsPerWeight());
            g.writeNumberField("prefillChunkTokens", p.prefillChunkTokens());
            g.writeStringField("attention", p.attention().label());
            g.writeEndObject();
            g.writeObjectFieldStart("memory");
            g.writeStringField("source", memorySource);
            g.writeNumberField("bytes", p.memoryBytes());
            g.writeEndObject();
            g.writeObjectFieldStart("bytes");
            g.writeNumberField("weights", p.weightsBytes());
            g.writeNumberField("overhead", p.overheadBytes());
            g.writeNumberField("kvPerToken", p.bytesPerToken());
            g.writeNumberField("kvPerBlock", p.bytesPerBlock());
            g.writeNumberField("kvPerRequest", p.cacheBytesPerRequest());
            g.writeNumberField("kvAllRequests", p.cacheBytes());
            MemoryPlan global = PlanFigures.allGlobal(p);
            g.writeNumberField("kvPerRequestAllGlobal", global.cacheBytesPerRequest());
            g.writeNumberField("kvAllRequestsAllGlobal", global.cacheBytes());
            g.writeNumberField("kvSavedBySlidingWindow", Math.max(0, global.cacheBytes() - p.cacheBytes()));
            g.writeNumberField("total", p.totalBytes());
            g.writeNumberField("headroom", p.headroomBytes());
            g.writeNumberField("prefillTransient", p.prefillTransientBytes());
            g.writeNumberField("prefillAttentionScratch", p.prefillAttentionScratchBytes());
            g.writeNumberField("prefillActivations", p.prefillActivationBytes());
            g.writeNumberField("peak", p.peakBytes());
            g.writeEndObject();
            g.writeObjectFieldStart("prefillTransientByAttention");
            for (AttentionKernel k : AttentionKernel.values()) {
                MemoryPlan q = p.withAttention(k);
                g.writeObjectFieldStart(k.label());
                g.writeNumberField("transient", q.prefillTransientBytes());
                g.writeNumberField("attentionScratch", q.prefillAttentionScratchBytes());
                g.writeNumberField("activations", q.prefillActivationBytes());
                g.writeNumberField("peak", q.peakBytes());
                g.writeBooleanField("fitsWithPrefill", q.fitsWithPrefill());
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeBooleanField("fits", p.fits());
            g.writeBooleanField("fitsWithPrefill", p.fitsWithPrefill());
            max(g, "maxContextTokens", p.maxContext());
            max(g, "maxConcurrency", p.maxConcurrency());
            max(g, "maxConcurrencyAllGlobal", PlanFigures.allGlobal(p).maxConcurrency());
            max(g, "maxContextTokensAllGlobal", PlanFigures.allGlobal(p).maxContext());
            g.writeArrayFieldStart("byKvDtype");
            for (KvDType d : KvDType.values()) {
                g.writeStartObject();
                g.writeStringField("kvDtype", d.label());
                g.writeNumberField("bitsPerValue", d.bitsPerValue());
                boolean ok = d.supports(s.headDim());
                g.writeBooleanField("supported", ok);
                if (ok) {
                    MemoryPlan q = p.withKvDtype(d);
                    g.writeNumberField("kvPerToken", q.bytesPerToken());
                    g.writeNumberField("kvPerRequest", q.cacheBytesPerRequest());
                    g.writeNumberField("total", q.totalBytes());
                    g.writeBooleanField("fits", q.fits());
                    max(g, "maxContextTokens", q.maxContext());
                    max(g, "maxConcurrency", q.maxConcurrency());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.flush();
            out.println();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void max(JsonGenerator g, String field, long v) throws IOException {
        if (v == MemoryPlan.UNLIMITED) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, v);
        }
    }
}
