package dev.coffer.agent.bench;

/**
 * One benchmark case's shared, read-only input (a chunk and whatever was derived from it once,
 * such as its compressed frame), from which each thread makes its own {@link Worker}.
 *
 * <p>Inputs are shared so memory stays flat as threads are added (the client heap is fixed, see
 * {@code bin/coffer}); contexts, ciphers and output buffers are per worker because none of them
 * is thread-safe.
 */
interface Workload {

    /** A worker for one thread, with its own contexts and buffers. */
    Worker newWorker();

    /** Runs the operation on one chunk; not thread-safe. */
    interface Worker extends AutoCloseable {

        /**
         * Processes the chunk once.
         *
         * @return some value depending on the result, folded into a sink so the JIT cannot drop
         *     the work
         */
        int runOnce();

        @Override
        default void close() {
        }
    }
}
