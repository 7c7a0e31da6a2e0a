package dev.coffer.agent.bench;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;

/**
 * Bare zstd level 1 through zstd-jni's reusable contexts, with the settings {@code ChunkCodec}
 * uses (no frame checksum, content size in the header): the compression cost on its own, without
 * the codec's CRC, copies and keep-if-smaller rule.
 */
final class ZstdWorkload implements Workload {

    private final byte[] chunk;
    private final byte[] frame;

    private ZstdWorkload(byte[] chunk, byte[] frame) {
        this.chunk = chunk;
        this.frame = frame;
    }

    static ZstdWorkload compress(byte[] chunk) {
        return new ZstdWorkload(chunk, null);
    }

    /** Compresses the chunk once up front; workers then decompress that frame. */
    static ZstdWorkload decompress(byte[] chunk) {
        try (ZstdCompressCtx zc = newCompressCtx()) {
            byte[] dst = new byte[(int) Zstd.compressBound(chunk.length)];
            int n = zc.compressByteArray(dst, 0, dst.length, chunk, 0, chunk.length);
            return new ZstdWorkload(chunk, java.util.Arrays.copyOf(dst, n));
        }
    }

    private static ZstdCompressCtx newCompressCtx() {
        return new ZstdCompressCtx().setLevel(1).setChecksum(false).setContentSize(true);
    }

    @Override
    public Worker newWorker() {
        if (frame == null) {
            ZstdCompressCtx zc = newCompressCtx();
            byte[] dst = new byte[(int) Zstd.compressBound(chunk.length)];
            return new Worker() {
                @Override
                public int runOnce() {
                    return zc.compressByteArray(dst, 0, dst.length, chunk, 0, chunk.length);
                }

                @Override
                public void close() {
                    zc.close();
                }
            };
        }
        ZstdDecompressCtx zd = new ZstdDecompressCtx();
        byte[] out = new byte[chunk.length];
        return new Worker() {
            @Override
            public int runOnce() {
                int n = zd.decompressByteArray(out, 0, out.length, frame, 0, frame.length);
                if (n != chunk.length) {
                    throw new IllegalStateException("zstd decoded " + n + " bytes, expected " + chunk.length);
                }
                return n;
            }

            @Override
            public void close() {
                zd.close();
            }
        };
    }
}
