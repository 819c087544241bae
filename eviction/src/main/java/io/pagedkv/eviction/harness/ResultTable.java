package io.pagedkv.eviction.harness;

import java.util.List;
import java.util.Locale;

/** Formats harness results as an aligned text table or as CSV. Stateless; thread-safe. */
public final class ResultTable {

    /** The CSV header, in column order. */
    public static final String CSV_HEADER = "trace,policy,tokens_kept,bytes_kept,blocks_freed,slot_bytes_copied,"
            + "recall,oracle,recall_over_oracle,top10_recall,output_error,needle_hits,needle_checks";

    private ResultTable() {
    }

    /** An aligned table, one line per result, with a header line. */
    public static String text(String trace, List<PolicyResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-10s %-34s %8s %12s %7s %12s %7s %7s %7s %7s %8s %7s%n",
                "trace", "policy", "tokens", "bytes", "blk-fr", "copied", "recall", "oracle", "r/orc", "top10",
                "out-err", "needle"));
        for (PolicyResult r : results) {
            String needle = r.needleChecks() == 0 ? "-" : r.needleHits() + "/" + r.needleChecks();
            sb.append(String.format(Locale.ROOT, "%-10s %-34s %8d %12d %7d %12d %7.4f %7.4f %7.4f %7.4f %8.4f %7s%n",
                    trace, r.policy(), r.tokensKept(), r.bytesKept(), r.blocksFreed(), r.slotBytesCopied(),
                    r.recall(), r.oracle(), r.recallOverOracle(), r.top10Recall(), r.outputError(), needle));
        }
        return sb.toString();
    }

    /** CSV rows (no header) for one trace. */
    public static String csvRows(String trace, List<PolicyResult> results) {
        StringBuilder sb = new StringBuilder();
        for (PolicyResult r : results) {
            sb.append(String.format(Locale.ROOT, "%s,\"%s\",%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%d%n",
                    trace, r.policy(), r.tokensKept(), r.bytesKept(), r.blocksFreed(), r.slotBytesCopied(),
                    r.recall(), r.oracle(), r.recallOverOracle(), r.top10Recall(), r.outputError(),
                    r.needleHits(), r.needleChecks()));
        }
        return sb.toString();
    }
}
