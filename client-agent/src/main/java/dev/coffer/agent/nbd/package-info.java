/**
 * An NBD client for reading QEMU's point-in-time exports during a backup and writing into NBD
 * targets during a restore.
 *
 * <p>{@link dev.coffer.agent.nbd.NbdUri} parses the URIs libnbd and qemu-img use;
 * {@link dev.coffer.agent.nbd.NbdClient} negotiates structured replies, metadata contexts
 * ({@code base:allocation}, {@code qemu:dirty-bitmap:NAME}) and block size limits, then pipelines
 * READ, WRITE, WRITE_ZEROES, TRIM, FLUSH and BLOCK_STATUS requests over one socket, with a single
 * reader thread completing their futures. Every failure is an
 * {@link dev.coffer.agent.nbd.NbdException} naming the export, the command, its offset and length
 * and the server's errno. The wire format follows the NBD spec (doc/proto.md); the QEMU 7.2
 * behaviour it relies on is in shared/nbd/PROTOCOL.md, and docs/nbd.md is the operator's view.
 */
package dev.coffer.agent.nbd;
