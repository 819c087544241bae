/** The {@code pagedkv plan} subcommand: will a model, context and concurrency fit a memory budget. */
package io.pagedkv.examples.plan;
