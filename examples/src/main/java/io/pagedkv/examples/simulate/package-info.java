/**
 * The serving simulator behind {@code pagedkv simulate}: a continuous-batching scheduler replaying a
 * request trace into a fixed KV memory under pluggable allocation strategies (contiguous max-context,
 * contiguous prompt+max-output first-fit, and pagedkv blocks), with the report, JSON and chart.
 */
package io.pagedkv.examples.simulate;
