package dev.coffer.store.datastore;

import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The restore points of a datastore, read from its directories — the source of truth.
 *
 * <p>A restore point exists exactly when its directory exists under its group: publishing renames
 * a complete directory into place, so a listing never shows a partial one. Names that are not
 * valid (stray files, an operator's notes, a temp directory) are skipped, never parsed into a path.
 */
public final class Catalog {

    private static final String OWNER_FILE = "owner";

    private final Path root;

    public Catalog(Path root) {
        this.root = root;
    }

    /** Every namespace below the root, as paths like {@code a/b}, sorted; the root itself is not listed. */
    public List<String> namespaces() throws IOException {
        List<String> out = new ArrayList<>();
        collectNamespaces(root, null, out);
        out.sort(null);
        return out;
    }

    private void collectNamespaces(Path dir, String prefix, List<String> out) throws IOException {
        Path nsDir = dir.resolve("ns");
        if (!Files.isDirectory(nsDir)) {
            return;
        }
        for (Path child : list(nsDir)) {
            String name = child.getFileName().toString();
            String ns = prefix == null ? name : prefix + "/" + name;
            if (Files.isDirectory(child) && valid(() -> Names.namespace(ns))) {
                out.add(ns);
                collectNamespaces(child, ns, out);
            }
        }
    }

    /** The groups of namespace {@code ns} (null: the root), sorted by type and id. */
    public List<GroupId> groups(String ns) throws IOException {
        Path dir = root.resolve(GroupId.namespacePath(ns));
        List<GroupId> out = new ArrayList<>();
        for (Path typeDir : list(dir)) {
            String type = typeDir.getFileName().toString();
            if (!Files.isDirectory(typeDir) || !valid(() -> Names.type(type))) {
                continue;
            }
            for (Path idDir : list(typeDir)) {
                String id = idDir.getFileName().toString();
                if (Files.isDirectory(idDir) && valid(() -> Names.id(id))) {
                    out.add(new GroupId(ns, type, id));
                }
            }
        }
        out.sort(java.util.Comparator.comparing(GroupId::type).thenComparing(GroupId::id));
        return out;
    }

    /** The restore points of a group, oldest first. */
    public List<SnapshotId> snapshots(GroupId group) throws IOException {
        List<SnapshotId> out = new ArrayList<>();
        for (Path p : list(root.resolve(group.relativePath()))) {
            String name = p.getFileName().toString();
            if (Files.isDirectory(p) && valid(() -> SnapshotId.parseTime(name))) {
                out.add(SnapshotId.of(group, SnapshotId.parseTime(name)));
            }
        }
        out.sort(java.util.Comparator.comparing(SnapshotId::time));
        return out;
    }

    /** The newest restore point of a group, if it has any. */
    public Optional<SnapshotId> newest(GroupId group) throws IOException {
        List<SnapshotId> all = snapshots(group);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    public boolean exists(SnapshotId snapshot) {
        return Files.isDirectory(dir(snapshot));
    }

    public Path dir(SnapshotId snapshot) {
        return root.resolve(snapshot.relativePath());
    }

    /**
     * The manifest of a published restore point, parsed without a key (its signature, if any, is
     * the client's to check).
     */
    public Manifest manifest(SnapshotId snapshot) throws IOException, StoreException {
        Path file = dir(snapshot).resolve(Manifest.FILE_NAME);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw StoreException.notFound("no-such-snapshot", "restore point " + snapshot + " does not exist");
        }
        try {
            return Manifest.parse(bytes, file.toString(), null);
        } catch (FormatException e) {
            throw new IOException("manifest of " + snapshot + " is damaged: " + e.getMessage(), e);
        }
    }

    /** The token id that owns a group, or null for a group nobody owns yet. */
    public String owner(GroupId group) throws IOException {
        try {
            return Files.readString(root.resolve(group.relativePath()).resolve(OWNER_FILE)).strip();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Records the owner of a group (created with its first backup, changed by an admin). */
    public void setOwner(GroupId group, String tokenId) throws IOException {
        Path dir = Files.createDirectories(root.resolve(group.relativePath()));
        dev.coffer.chunker.AtomicFiles.replace(dir.resolve(OWNER_FILE), (tokenId + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(out::add);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return out;
    }

    private static boolean valid(Runnable check) {
        try {
            check.run();
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
