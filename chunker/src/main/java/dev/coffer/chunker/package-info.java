/**
 * Coffer's formats and the pure data path, with no I/O framework in sight.
 *
 * <p>A disk is cut into fixed-size chunks; each chunk is named by its {@link dev.coffer.chunker.Digest}
 * (SHA-256, or HMAC-SHA256 under a key's id key for encrypted backups) and stored once as a blob made
 * by {@link dev.coffer.chunker.ChunkCodec}. A fixed index lists one digest per chunk of one disk of one
 * restore point; the manifest ties a restore point's disks, config files and statistics together.
 * Every magic number and header size is frozen in {@link dev.coffer.chunker.FileFormats} and drawn as a
 * byte table in docs/formats.md. Every decoder rejects bad input with a
 * {@link dev.coffer.chunker.FormatException} that says what and where.
 */
package dev.coffer.chunker;
