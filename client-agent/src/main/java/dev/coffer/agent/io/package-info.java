/**
 * Raw image files and block devices as backup sources and restore targets.
 *
 * <p>A {@link dev.coffer.agent.io.FileSource} reads a disk that is a plain file or a block device
 * chunk by chunk and tells, through a {@link dev.coffer.agent.io.ChunkMap}, which chunks are entirely
 * file holes so the backup names them with the zero digest without reading them. A
 * {@link dev.coffer.agent.io.FileTarget} writes a restored disk: into a sparse file, where zero chunks
 * stay (or become) holes, or onto a block device, where they are written as real zeros because
 * TRIM leaves undefined contents. Neither knows about chunk digests, the store or the network; see
 * docs/backup-files.md for the behaviour operators rely on.
 */
package dev.coffer.agent.io;
