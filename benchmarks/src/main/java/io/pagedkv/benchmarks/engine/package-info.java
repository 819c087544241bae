/** JMH benchmarks of the engine-facing step API: one engine step's bookkeeping. */
package io.pagedkv.benchmarks.engine;
