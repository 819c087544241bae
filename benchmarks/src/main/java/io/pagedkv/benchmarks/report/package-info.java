/** What the ratio reports (attention, codecs, prefix) share: reading the machine's load for their tables. */
package io.pagedkv.benchmarks.report;
