package dev.coffer.agent.backup;

import dev.coffer.chunker.ConfigBlob;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestBuilder;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.ApiTypes.BeginBackupRequest;
import dev.coffer.store.api.ApiTypes.BeginBackupResponse;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.StoreClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * One backup of one VM (or other source): every disk, its config files, one restore point.
 *
 * <p>Opens a session, matches each disk to the base's disk of the same name and size (never by
 * position: a re-ordered drive list must not compare the wrong disks), runs {@link DiskBackup} per
 * disk, uploads indexes and config files, writes the manifest — signed when encrypted — and
 * finishes. A heartbeat, every third of the lease the server announces, keeps the session alive
 * while long stretches of unchanged chunks upload nothing. Any failure aborts the session, so the
 * store publishes nothing partial.
 */
public final class BackupRun {

    /**
     * One disk to back up under {@code name}.
     *
     * @param checkpoint the checkpoint bitmap this backup started on the disk (recorded in the
     *     manifest so the next backup can trust it), or null
     * @param bitmapReason why the source's dirty bitmap may not be trusted ({@code bitmap-missing},
     *     {@code checkpoint-gap}, ...), or null: the disk is then read whole ({@code diff})
     */
    public record DiskSpec(String name, ChunkSource source, ManifestDisk.Checkpoint checkpoint, String bitmapReason) {
        public DiskSpec(String name, ChunkSource source) {
            this(name, source, null, null);
        }
    }

    /** What the session tells the sources before they open: needed to pick and name checkpoints. */
    public record Context(UUID datastore, int chunkSize, Manifest base) {}

    /**
     * Opens the disks once the session is open: a QMP source freezes its VM only then, since its
     * checkpoints are named after the datastore and matched to the base.
     */
    public interface Disks {
        List<DiskSpec> open(Context context) throws IOException;

        /** Called after every disk was read, before the restore point is published; throws to abort it. */
        default void beforeFinish() throws IOException {}
    }

    /** What the run did, per disk, in the shape of {@code coffer backup --json}. */
    public record DiskResult(String name, long size, String mode, String reason, long readBytes, long sampledBytes,
            long reusedBytes, long uploadedChunks, long uploadedBytes, long zeroBytes) {}

    public record Result(String snapshot, double durationS, List<DiskResult> disks) {}

    /** Digests remembered to upload repeats once: 65,536 × ~100 bytes, a few MiB at most. */
    private static final int RECENT_DIGESTS = 65_536;

    private BackupRun() {}

    /**
     * Runs the backup.
     *
     * @param crypt the key for an encrypted backup, or null
     * @param configFiles the VM's own config files to attach (domain XML, QEMU command line)
     * @param workDir where base indexes and new indexes are written during the run
     * @param progress receives the bytes of each chunk as it is processed
     */
    public static Result run(StoreClient client, GroupId group, Instant time, List<DiskSpec> disks, List<Path> configFiles,
            CryptConfig crypt, int workers, Path workDir, String createdBy, LongConsumer progress) throws IOException {
        checkNames(disks);
        return run(client, group, time, ctx -> disks, configFiles, crypt, workers, workDir, createdBy, progress);
    }

    /** Runs the backup of disks opened only after the session began ({@link Disks}). */
    public static Result run(StoreClient client, GroupId group, Instant time, Disks opener, List<Path> configFiles,
            CryptConfig crypt, int workers, Path workDir, String createdBy, LongConsumer progress) throws IOException {
        long started = System.nanoTime();
        BeginBackupResponse begin;
        try {
            begin = client.beginBackup(new BeginBackupRequest(group.ns(), group.name(), SnapshotId.formatTime(time),
                    crypt == null ? "none" : "encrypt", crypt == null ? null : crypt.fingerprint()));
        } catch (StoreClientException e) {
            if (!"not-newer".equals(e.code()) || Duration.between(time, Instant.now()).toSeconds() > 2) {
                throw e;
            }
            // restore point times have whole seconds: a backup right after the previous one takes the next second
            Instant next = time.plusSeconds(1);
            sleepUntil(next);
            time = next;
            begin = client.beginBackup(new BeginBackupRequest(group.ns(), group.name(), SnapshotId.formatTime(time),
                    crypt == null ? "none" : "encrypt", crypt == null ? null : crypt.fingerprint()));
        }
        String session = begin.session();
        ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffer-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(() -> {
            try {
                client.heartbeat(session);
            } catch (IOException e) {
                // the next real call reports the problem
            }
        }, heartbeatMillis(begin.leaseS()), heartbeatMillis(begin.leaseS()), TimeUnit.MILLISECONDS);
        try {
            Manifest base = null;
            if (begin.base() != null) {
                base = Manifest.parse(client.baseFile(session, Manifest.FILE_NAME), "manifest of base " + begin.base(), crypt);
                if (crypt != null && !base.signatureVerified()) {
                    throw new IOException("the signature of base " + begin.base() + " does not verify under this key");
                }
            }
            Set<Digest> bad = new HashSet<>();
            for (String hex : begin.baseBad()) {
                bad.add(Digest.parse(hex));
            }
            ManifestBuilder mb = Manifest.builder().snapshot(SnapshotId.of(group, time)).chunkSize(begin.chunkSize()).createdBy(createdBy);
            if (base != null) {
                mb.parent(base.snapshot());
            }
            List<DiskSpec> disks = opener.open(new Context(UUID.fromString(begin.datastoreUuid()), begin.chunkSize(), base));
            checkNames(disks);
            List<DiskResult> results = new ArrayList<>();
            RecentDigests uploaded = new RecentDigests(RECENT_DIGESTS);
            for (DiskSpec spec : disks) {
                results.add(backupDisk(client, session, spec, base, begin.noBaseReason(), bad, crypt, begin.chunkSize(), workers,
                        workDir, mb, uploaded, "datastore".equals(begin.dedupScope()), time, progress));
            }
            for (Path f : configFiles) {
                // encrypted restore points store their config files encrypted too (ConfigBlob)
                ConfigBlob.Sealed sealed = ConfigBlob.seal(Names.item(f.getFileName().toString()), Files.readAllBytes(f), crypt);
                client.uploadFile(session, sealed.file().name(), sealed.stored());
                mb.addFile(sealed.file());
            }
            long total = 0;
            for (DiskResult r : results) {
                total += r.uploadedBytes();
            }
            mb.statistic("uploaded_bytes", total);
            opener.beforeFinish();
            String snapshot = client.finish(session, mb.sign(crypt).toBytes());
            return new Result(snapshot, (System.nanoTime() - started) / 1e9, results);
        } catch (IOException | RuntimeException e) {
            try {
                client.abort(session);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            heartbeat.shutdownNow();
        }
    }

    private static void checkNames(List<DiskSpec> disks) {
        Set<String> names = new HashSet<>();
        for (DiskSpec d : disks) {
            Names.item(d.name());
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("disk name '" + d.name() + "' is given twice");
            }
        }
    }

    private static DiskResult backupDisk(StoreClient client, String session, DiskSpec spec, Manifest base, String noBaseReason,
            Set<Digest> bad, CryptConfig crypt, int chunkSize, int workers, Path workDir, ManifestBuilder mb, RecentDigests uploaded,
            boolean askKnown, Instant time, LongConsumer progress) throws IOException {
        long size = spec.source().size();
        Optional<ManifestDisk> baseDisk = base == null ? Optional.empty()
                : base.disks().stream().filter(d -> d.name().equals(spec.name())).findFirst();
        String mode;
        String reason;
        Path baseIndex = null;
        if (baseDisk.isEmpty()) {
            mode = "full";
            // a newest restore point under another key shares no chunk names with this backup
            reason = base == null && noBaseReason != null ? noBaseReason : "no-base";
        } else if (baseDisk.get().size() != size) {
            mode = "full";
            reason = "resized";
        } else {
            baseIndex = workDir.resolve("base-" + spec.name() + ".fidx");
            Files.deleteIfExists(baseIndex);
            Files.write(baseIndex, client.baseFile(session, baseDisk.get().index().file()));
            if (spec.bitmapReason() != null) {
                mode = "diff";
                reason = spec.bitmapReason();
            } else if (!spec.source().hasDirtyBitmap()) {
                mode = "diff";
                reason = "no-bitmap";
            } else if (base.unprotected().verify() == Manifest.VerifyState.FAILED) {
                mode = "diff";
                reason = "base-verify-failed";
            } else {
                mode = "incremental";
                reason = null;
            }
        }
        Path index = workDir.resolve(spec.name() + ".fidx");
        Files.deleteIfExists(index);
        DiskStats stats = new DiskStats();
        Digest checksum;
        try (FixedIndexReader b = baseIndex == null ? null : FixedIndexReader.open(baseIndex)) {
            if ("incremental".equals(mode)) {
                CleanSample.Outcome sample = CleanSample.run(spec.source(), b, crypt, chunkSize, sampleSeed(time, spec.name()), stats);
                if (!sample.matches()) {
                    mode = "diff";
                    reason = "sample-mismatch";
                    System.err.printf("coffer: disk %s: %d of %d chunks the dirty bitmap calls clean differ from the base "
                            + "(first: chunk %d); reading every allocated chunk instead%n", spec.name(), sample.mismatches(),
                            sample.sampled(), sample.firstMismatch());
                }
            }
            checksum = new DiskBackup(ChunkSink.session(client, session), crypt, chunkSize, workers, uploaded, askKnown, progress)
                    .run(spec.source(), index, b, bad, "incremental".equals(mode), stats);
        } finally {
            if (baseIndex != null) {
                Files.deleteIfExists(baseIndex);
            }
        }
        try {
            long indexSize = Files.size(index);
            client.uploadFile(session, spec.name() + ".fidx", index);
            mb.addDisk(new ManifestDisk(spec.name(), size, new ManifestDisk.IndexRef(spec.name() + ".fidx", indexSize, checksum),
                    ManifestDisk.Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)), reason, spec.checkpoint(), stats.asMap()));
        } finally {
            Files.deleteIfExists(index);
        }
        return new DiskResult(spec.name(), size, mode, reason, stats.readBytes(), stats.sampledBytes.sum(), stats.reusedBytes(),
                stats.uploadedChunks(), stats.uploadedBytes(), stats.zeroBytes());
    }

    private static void sleepUntil(Instant t) throws IOException {
        long ms = Duration.between(Instant.now(), t).toMillis();
        if (ms > 0) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for the next second");
            }
        }
    }

    /** The same for one disk of one restore point, so a rerun of a test samples the same chunks. */
    static long sampleSeed(Instant time, String disk) {
        return time.getEpochSecond() * 31 + disk.hashCode();
    }

    /**
     * How often to renew the session: a third of the server's lease, at most once a minute, so a
     * long stretch of unchanged chunks (nothing uploaded) never outlasts a short lease.
     */
    static long heartbeatMillis(long leaseS) {
        return leaseS <= 0 ? 60_000 : Math.clamp(leaseS * 1000 / 3, 500, 60_000);
    }
}
