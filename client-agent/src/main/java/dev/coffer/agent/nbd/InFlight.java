package dev.coffer.agent.nbd;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One request sent and not yet fully answered. The reader thread alone mutates it while reply
 * chunks arrive and then completes {@link #future}, which publishes the results to the caller.
 */
final class InFlight {

    final NbdCommand command;
    final long offset;
    final long length;
    final long cookie;
    /** READ: where the data goes; the reader thread reads the socket straight into it. */
    final byte[] buffer;
    final int bufferOffset;
    final CompletableFuture<Void> future = new CompletableFuture<>();

    /** READ: bytes delivered by data and hole chunks. */
    long covered;
    /** BLOCK_STATUS: extents per context name, clipped to the request. */
    final Map<String, List<Extent>> status;
    /** The first error chunk; the request fails with it once the final chunk arrives. */
    NbdException error;

    InFlight(NbdCommand command, long offset, long length, long cookie, byte[] buffer, int bufferOffset) {
        this.command = command;
        this.offset = offset;
        this.length = length;
        this.cookie = cookie;
        this.buffer = buffer;
        this.bufferOffset = bufferOffset;
        this.status = command == NbdCommand.BLOCK_STATUS ? new HashMap<>() : Map.of();
    }

    long end() {
        return offset + length;
    }

    void recordError(NbdException e) {
        if (error == null) {
            error = e;
        }
    }

    /**
     * Adds one context's extents from a BLOCK_STATUS chunk. Lengths are unsigned 32-bit; the last
     * extent may run past the request (allowed without REQ_ONE) and is clipped here.
     *
     * @return false if the context already had a chunk in this reply
     */
    boolean addExtents(String context, long[] lengths, int[] flags, int count) {
        if (status.containsKey(context)) {
            return false;
        }
        List<Extent> list = new ArrayList<>(count);
        long pos = offset;
        for (int i = 0; i < count && pos < end(); i++) {
            long len = Math.min(lengths[i], end() - pos);
            list.add(new Extent(pos, len, flags[i]));
            pos += len;
        }
        status.put(context, List.copyOf(list));
        return true;
    }

    /** Completes the future after the final chunk: with the error, or after checking the reply is whole. */
    void finish(String export, int contexts) {
        if (error != null) {
            future.completeExceptionally(error);
        } else if (command == NbdCommand.READ && covered != length) {
            future.completeExceptionally(NbdException.request(export, command, offset, length,
                    "the server's reply covered " + covered + " of " + length + " bytes", null, null));
        } else if (command == NbdCommand.BLOCK_STATUS && status.size() != contexts) {
            future.completeExceptionally(NbdException.request(export, command, offset, length,
                    "the server answered for " + status.keySet() + " but " + contexts + " contexts are selected",
                    null, null));
        } else {
            future.complete(null);
        }
    }
}
