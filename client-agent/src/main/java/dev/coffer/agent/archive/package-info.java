/**
 * The single-file archive on the client side: {@code coffer export} (a restore point from a store
 * into one stream), {@code coffer import} (a stream into a store, through the server's checks),
 * restore straight from an archive file, and {@code coffer archive check} (what a damaged archive
 * still holds). The format itself lives in the chunker module ({@code ArchiveWriter},
 * {@code ArchiveReader}, {@code ArchiveFile}); docs/formats.md draws it.
 */
package dev.coffer.agent.archive;
