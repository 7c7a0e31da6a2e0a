package dev.coffer.chunker;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts the restore point files of an archive's header (config blobs, fixed indexes) back together
 * from their file frames, writing each part at its offset in a file in a work directory.
 *
 * <p>Strict mode wants every file's parts in order and contiguous. Salvage mode takes whatever
 * parts arrived intact, wherever they belong, and keeps a file that misses some as a
 * {@link ArchiveReader.Partial}: full length, the bytes of lost parts left zero and listed as
 * gaps — so a fixed index that lost one 1 MiB part still names the chunks of every other part,
 * instead of the whole disk being lost.
 */
final class ArchiveFileParts {

    private static final class State {
        final long size;
        long next;
        final List<long[]> ranges = new ArrayList<>();

        State(long size) {
            this.size = size;
        }
    }

    private final Path dir;
    private final boolean salvage;
    private final Map<String, State> files = new LinkedHashMap<>();

    ArchiveFileParts(Path dir, boolean salvage) {
        this.dir = dir;
        this.salvage = salvage;
    }

    /** Takes one file frame's payload; in salvage mode a part that makes no sense is skipped. */
    void add(byte[] p, String where) throws IOException {
        try {
            addPart(p, where);
        } catch (FormatException e) {
            if (!salvage) {
                throw e;
            }
        }
    }

    private void addPart(byte[] p, String where) throws IOException {
        int nameLen = p.length < 2 ? -1 : (p[0] & 0xff) | (p[1] & 0xff) << 8;
        if (nameLen < 0 || p.length < 2 + nameLen + 16) {
            throw new FormatException.Truncated(where, "file frame payload of " + p.length + " bytes is too short");
        }
        String name = new String(p, 2, nameLen, StandardCharsets.UTF_8);
        long size = Bytes.getLongLE(p, 2 + nameLen);
        long at = Bytes.getLongLE(p, 2 + nameLen + 8);
        int dataOff = 2 + nameLen + 16;
        int n = p.length - dataOff;
        try {
            ManifestFile.requireStoredFileName(name);
        } catch (IllegalArgumentException e) {
            throw new FormatException.Malformed(where, "bad file name: " + e.getMessage());
        }
        State st = files.get(name);
        if (st != null && st.size != size) {
            throw new FormatException.Malformed(where, "file " + name + " changes its size from " + st.size + " to " + size);
        }
        long expectedAt = st == null ? 0 : st.next;
        if (!salvage && at != expectedAt) {
            throw new FormatException.Malformed(where, "part of file " + name + " at " + at + ", expected the part at " + expectedAt);
        }
        if (size < 0 || at < 0 || at > size - n || (n == 0 && size > 0)) {
            throw new FormatException.Malformed(where, "part of file " + name + " at " + at + " runs past its size " + size);
        }
        if (st == null) {
            st = new State(size);
            files.put(name, st);
        }
        try (FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(p, dataOff, n);
            while (b.hasRemaining()) {
                ch.write(b, at + b.position() - dataOff);
            }
        }
        st.ranges.add(new long[] {at, at + n});
        st.next = at + n;
    }

    /** The files received whole. */
    Map<String, Path> complete() {
        Map<String, Path> out = new LinkedHashMap<>();
        files.forEach((name, st) -> {
            if (gaps(st).isEmpty()) {
                out.put(name, dir.resolve(name));
            }
        });
        return out;
    }

    /**
     * The files that miss parts, each extended to its full size.
     *
     * @throws FormatException.Truncated in strict mode, for the first such file
     */
    Map<String, ArchiveReader.Partial> partial(String where) throws IOException {
        Map<String, ArchiveReader.Partial> out = new LinkedHashMap<>();
        for (Map.Entry<String, State> e : files.entrySet()) {
            List<ArchiveReader.Gap> gaps = gaps(e.getValue());
            if (gaps.isEmpty()) {
                continue;
            }
            if (!salvage) {
                throw new FormatException.Truncated(where, "file " + e.getKey() + " is incomplete");
            }
            Path path = dir.resolve(e.getKey());
            try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
                f.setLength(e.getValue().size);
            }
            out.put(e.getKey(), new ArchiveReader.Partial(path, e.getValue().size, gaps));
        }
        return out;
    }

    private static List<ArchiveReader.Gap> gaps(State st) {
        List<long[]> rs = new ArrayList<>(st.ranges);
        rs.sort(Comparator.comparingLong(r -> r[0]));
        List<ArchiveReader.Gap> gaps = new ArrayList<>();
        long covered = 0;
        for (long[] r : rs) {
            if (r[0] > covered) {
                gaps.add(new ArchiveReader.Gap(covered, r[0] - covered));
            }
            covered = Math.max(covered, r[1]);
        }
        if (covered < st.size) {
            gaps.add(new ArchiveReader.Gap(covered, st.size - covered));
        }
        return gaps;
    }
}
