package dev.coffer.agent.qmp;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of a Coffer checkpoint bitmap (DESIGN "Backup flow" step 3):
 * {@code coffer-<datastore uuid>-<first 12 hex of SHA-256("ns/type/id")>-<seq, 8 digits>}, e.g.
 * {@code coffer-3f2b…-a1b2c3d4e5f6-00000007}. Two datastores or two groups never share a name, and a
 * re-ordered drive list cannot mix them up because the bitmap lives on the drive's own node.
 *
 * <p>QEMU lists bitmaps in no particular order: order comes from {@link #seq()} only. The root
 * namespace is the empty string, so its key hashes {@code "/vm/101"}.
 */
public record CheckpointName(UUID datastore, String groupKey, long seq) implements Comparable<CheckpointName> {

    /** The common start of every checkpoint name. */
    public static final String PREFIX = "coffer-";
    /** Highest sequence number that fits the 8-digit field. */
    public static final long MAX_SEQ = 99_999_999L;

    private static final Pattern NAME = Pattern.compile(
            "coffer-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([0-9a-f]{12})-([0-9]{8})");
    private static final Pattern KEY = Pattern.compile("[0-9a-f]{12}");

    public CheckpointName {
        Objects.requireNonNull(datastore, "datastore");
        Objects.requireNonNull(groupKey, "groupKey");
        if (!KEY.matcher(groupKey).matches()) {
            throw new IllegalArgumentException("group key must be 12 lower-case hex digits: '" + groupKey + "'");
        }
        if (seq < 1 || seq > MAX_SEQ) {
            throw new IllegalArgumentException("checkpoint seq must be 1.." + MAX_SEQ + ": " + seq);
        }
    }

    /** The first 12 hex digits of SHA-256 of {@code "ns/type/id"} ({@code ns} is "" for the root namespace). */
    public static String groupKey(String ns, String type, String id) {
        Objects.requireNonNull(ns, "ns");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest((ns + "/" + type + "/" + id).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** {@code coffer-<uuid>-<key>-}: every checkpoint of one (datastore, group) starts with it. */
    public static String prefix(UUID datastore, String groupKey) {
        return PREFIX + datastore.toString().toLowerCase(Locale.ROOT) + "-" + groupKey + "-";
    }

    /** This checkpoint's {@link #prefix(UUID, String)}. */
    public String prefix() {
        return prefix(datastore, groupKey);
    }

    /** The bitmap name. */
    public String name() {
        return prefix() + String.format(Locale.ROOT, "%08d", seq);
    }

    /** The name {@code bitmap} as a checkpoint, or empty when it is not one (any other bitmap). */
    public static Optional<CheckpointName> parse(String bitmap) {
        if (bitmap == null) {
            return Optional.empty();
        }
        Matcher m = NAME.matcher(bitmap);
        if (!m.matches()) {
            return Optional.empty();
        }
        long seq = Long.parseLong(m.group(3));
        if (seq < 1) {
            return Optional.empty();
        }
        return Optional.of(new CheckpointName(UUID.fromString(m.group(1)), m.group(2), seq));
    }

    /** True when this checkpoint belongs to (datastore, groupKey). */
    public boolean belongsTo(UUID datastore, String groupKey) {
        return this.datastore.equals(datastore) && this.groupKey.equals(groupKey);
    }

    /**
     * The checkpoints of (datastore, groupKey) among {@code bitmaps} (any bitmap names of one node,
     * in any order), ordered by seq, oldest first. Other names are ignored.
     */
    public static List<CheckpointName> chain(Collection<String> bitmaps, UUID datastore, String groupKey) {
        return bitmaps.stream().map(CheckpointName::parse).flatMap(Optional::stream)
                .filter(c -> c.belongsTo(datastore, groupKey)).sorted().toList();
    }

    /** The newest checkpoint of (datastore, groupKey) among {@code bitmaps}, if any. */
    public static Optional<CheckpointName> newest(Collection<String> bitmaps, UUID datastore, String groupKey) {
        List<CheckpointName> c = chain(bitmaps, datastore, groupKey);
        return c.isEmpty() ? Optional.empty() : Optional.of(c.getLast());
    }

    /**
     * The next checkpoint of (datastore, groupKey) on a node holding {@code bitmaps}: one more than the
     * highest seq of that prefix, or seq 1 when there is none.
     *
     * @throws IllegalStateException when the highest seq is already {@link #MAX_SEQ}
     */
    public static CheckpointName next(Collection<String> bitmaps, UUID datastore, String groupKey) {
        long highest = newest(bitmaps, datastore, groupKey).map(CheckpointName::seq).orElse(0L);
        if (highest >= MAX_SEQ) {
            throw new IllegalStateException("checkpoint seq of " + prefix(datastore, groupKey) + " is exhausted ("
                    + MAX_SEQ + "); remove the chain to start again at 1");
        }
        return new CheckpointName(datastore, groupKey, highest + 1);
    }

    /** Orders by datastore, group key, then seq (numerically). */
    @Override
    public int compareTo(CheckpointName o) {
        return Comparator.comparing(CheckpointName::datastore).thenComparing(CheckpointName::groupKey)
                .thenComparingLong(CheckpointName::seq).compare(this, o);
    }

    @Override
    public String toString() {
        return name();
    }
}
