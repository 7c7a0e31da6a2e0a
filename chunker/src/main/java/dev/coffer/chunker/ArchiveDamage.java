package dev.coffer.chunker;

/**
 * A run of bytes a salvaging archive reader could not use: from {@code offset} to the next good
 * frame (or the end), with the first fault found there. Reports list these so an operator knows
 * where the archive was damaged, next to what was lost because of it.
 *
 * @param offset where the damaged run starts
 * @param length how many bytes were skipped
 * @param reason the first fault, as the strict reader would have reported it
 */
public record ArchiveDamage(long offset, long length, String reason) {}
