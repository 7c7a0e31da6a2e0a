package dev.coffer.agent.bench;

import dev.coffer.chunker.ChunkDigester;
import java.util.Arrays;

/**
 * The operations {@code coffer bench} measures, named as they appear in its JSON output.
 *
 * <p>Where Coffer has a class for the step, the op goes through it ({@link ChunkDigester} for
 * digests, {@code ChunkCodec} for the chunk ops), so the figures are the product's and move when
 * its code does. The bare zstd and AES-GCM ops show what the libraries alone can do; the gap to the
 * chunk ops is the codec's own overhead. Throughput is always counted in plaintext chunk bytes,
 * also for the decoding direction.
 */
public enum BenchOp {
    SHA256("sha256", "SHA-256 chunk digest (ChunkDigester.plain)"),
    KEYED_DIGEST("keyed-digest", "HMAC-SHA256 chunk digest for encrypted backups (ChunkDigester.keyed)"),
    ZSTD_COMPRESS("zstd-compress", "zstd level 1 compression (zstd-jni ZstdCompressCtx)"),
    ZSTD_DECOMPRESS("zstd-decompress", "zstd decompression (zstd-jni ZstdDecompressCtx)"),
    AES_GCM_ENCRYPT("aes-gcm-encrypt", "AES-256-GCM encryption (JDK Cipher, 64 KiB steps)"),
    AES_GCM_DECRYPT("aes-gcm-decrypt", "AES-256-GCM decryption (JDK Cipher, 64 KiB steps)"),
    CHUNK_ENCODE("chunk-encode", "ChunkCodec.encode, plain: zstd-1 + CRC32C"),
    CHUNK_DECODE("chunk-decode", "ChunkCodec.decode, plain: CRC32C + zstd + SHA-256 check"),
    CHUNK_ENCODE_ENCRYPTED("chunk-encode-encrypted", "ChunkCodec.encode with a key: zstd-1 + AES-256-GCM + CRC32C"),
    CHUNK_DECODE_ENCRYPTED("chunk-decode-encrypted", "ChunkCodec.decode with a key: CRC32C + AES-GCM + zstd + HMAC check");

    private final String label;
    private final String description;

    BenchOp(String label, String description) {
        this.label = label;
        this.description = description;
    }

    /** The name used on the command line and in JSON. */
    public String label() {
        return label;
    }

    /** One line saying what is measured and through which class. */
    public String description() {
        return description;
    }

    /**
     * The op named {@code label}, as {@link #label()} prints it.
     *
     * @throws IllegalArgumentException naming the known ops when {@code label} is not one
     */
    public static BenchOp fromLabel(String label) {
        for (BenchOp op : values()) {
            if (op.label.equals(label)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + label + "' (known: "
                + String.join(", ", Arrays.stream(values()).map(BenchOp::label).toList()) + ")");
    }

    /**
     * False for the chunk codec on all-zero data: the product never encodes an all-zero chunk (it is
     * named by the zero digest and never stored), so there is nothing to measure.
     */
    public boolean supports(DataKind data) {
        return data != DataKind.ZEROS || !label.startsWith("chunk-");
    }

    /** The shared input for one case: the chunk plus whatever this op derives from it once. */
    Workload workload(byte[] chunk, BenchKeys keys) {
        return switch (this) {
            case SHA256 -> new DigestWorkload(chunk, ChunkDigester::plain);
            case KEYED_DIGEST -> new DigestWorkload(chunk, () -> ChunkDigester.keyed(keys.crypt()));
            case ZSTD_COMPRESS -> ZstdWorkload.compress(chunk);
            case ZSTD_DECOMPRESS -> ZstdWorkload.decompress(chunk);
            case AES_GCM_ENCRYPT -> GcmWorkload.encrypt(chunk, keys.aesKey());
            case AES_GCM_DECRYPT -> GcmWorkload.decrypt(chunk, keys.aesKey());
            case CHUNK_ENCODE -> ChunkCodecWorkload.encode(chunk, null);
            case CHUNK_DECODE -> ChunkCodecWorkload.decode(chunk, null);
            case CHUNK_ENCODE_ENCRYPTED -> ChunkCodecWorkload.encode(chunk, keys.crypt());
            case CHUNK_DECODE_ENCRYPTED -> ChunkCodecWorkload.decode(chunk, keys.crypt());
        };
    }
}
