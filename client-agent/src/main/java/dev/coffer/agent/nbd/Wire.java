package dev.coffer.agent.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Exact-length reads and writes on a blocking channel; a short read at end of stream is an error. */
public final class Wire {

    private Wire() {}

    public static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("server closed the connection (" + buffer.remaining()
                        + " bytes of a message still expected)");
            }
        }
    }

    public static void writeFully(SocketChannel channel, ByteBuffer... buffers) throws IOException {
        long left = 0;
        for (ByteBuffer b : buffers) {
            left += b.remaining();
        }
        while (left > 0) {
            left -= channel.write(buffers);
        }
    }

    /** Reads and drops {@code n} bytes using {@code scratch} (its content is overwritten). */
    public static void skip(SocketChannel channel, long n, ByteBuffer scratch) throws IOException {
        while (n > 0) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), n));
            readFully(channel, scratch);
            n -= scratch.limit();
        }
    }
}
