/**
 * Local throughput of the data path, measured through Coffer's own classes.
 *
 * <p>{@link dev.coffer.agent.bench.CodecBench} runs each {@link dev.coffer.agent.bench.BenchOp} on
 * chunks of each {@link dev.coffer.agent.bench.DataKind}, on one thread and on all cores, after a JIT
 * warm-up, for a fixed time per case. The numbers answer "how fast can this host hash, compress and
 * encrypt", the first question when a backup is slower than expected. Plain synchronous code; the
 * {@code coffer bench} command in {@code dev.coffer.agent.cli} only parses options and prints.
 */
package dev.coffer.agent.bench;
