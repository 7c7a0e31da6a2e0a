package dev.coffer.agent.bench;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FormatException;

/**
 * The whole chunk blob codec, {@link ChunkCodec}, plain or encrypting: encode is zstd-1 (kept
 * only if smaller), optional AES-256-GCM and the CRC32C; decode is the CRC check, decryption,
 * decompression and the digest check that proves the blob holds the chunk it is named after.
 * Encode does not include naming the chunk: a backup pays {@code sha256} or {@code keyed-digest}
 * on top.
 */
final class ChunkCodecWorkload implements Workload {

    private final byte[] chunk;
    private final CryptConfig crypt;
    private final Digest digest;
    private final byte[] blob;

    private ChunkCodecWorkload(byte[] chunk, CryptConfig crypt, Digest digest, byte[] blob) {
        this.chunk = chunk;
        this.crypt = crypt;
        this.digest = digest;
        this.blob = blob;
    }

    /** Encodes the chunk; {@code crypt} null means a plain codec. */
    static ChunkCodecWorkload encode(byte[] chunk, CryptConfig crypt) {
        return new ChunkCodecWorkload(chunk, crypt, null, null);
    }

    /** Encodes the chunk once up front; workers then decode that blob. */
    static ChunkCodecWorkload decode(byte[] chunk, CryptConfig crypt) {
        try (ChunkCodec codec = ChunkCodec.create(crypt)) {
            Digest digest = codec.digest(chunk, 0, chunk.length);
            return new ChunkCodecWorkload(chunk, crypt, digest, codec.encode(chunk, 0, chunk.length));
        }
    }

    @Override
    public Worker newWorker() {
        ChunkCodec codec = ChunkCodec.create(crypt);
        if (blob == null) {
            byte[] out = new byte[ChunkCodec.maxBlobLength(chunk.length)];
            return new Worker() {
                @Override
                public int runOnce() {
                    return codec.encodeInto(chunk, 0, chunk.length, out); // into one reused buffer, as a backup does
                }

                @Override
                public void close() {
                    codec.close();
                }
            };
        }
        return new Worker() {
            @Override
            public int runOnce() {
                try {
                    return codec.decode(blob, digest, chunk.length).length;
                } catch (FormatException e) {
                    throw new IllegalStateException("a blob the codec just made failed to decode", e);
                }
            }

            @Override
            public void close() {
                codec.close();
            }
        };
    }
}
