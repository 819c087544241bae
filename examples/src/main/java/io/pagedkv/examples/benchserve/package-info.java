/**
 * {@code pagedkv bench-serve}: a load generator for an OpenAI-compatible completion server with
 * Poisson arrivals over a ShareGPT- or Alpaca-shaped trace (vLLM's {@code benchmark_serving} is
 * the model): throughput, time to first token and time per output token, as a table, JSON and a chart.
 */
package io.pagedkv.examples.benchserve;
