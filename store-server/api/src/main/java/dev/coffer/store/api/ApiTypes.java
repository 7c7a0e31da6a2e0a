package dev.coffer.store.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The API's request and response bodies, as records; field names go on the wire in snake_case.
 * docs/api.md shows each with an example. Fields may be added, never renamed.
 */
public final class ApiTypes {

    private ApiTypes() {}

    /** Every error: a stable code and one line a person can act on. */
    public record ApiError(String error, String message) {}

    public record DatastoreInfo(String name, String uuid, int chunkSize) {}

    public record DiskInfo(String name, long size) {}

    /** One restore point, as {@code coffer snapshots --json} prints it. */
    public record SnapshotInfo(String snapshot, String ns, String group, String time, List<DiskInfo> disks, String crypt,
            String verify, @JsonProperty("protected") boolean isProtected) {}

    public record GroupInfo(String ns, String group, String owner, int snapshots, String last) {}

    /**
     * @param isImport true to write a restore point brought in from an archive ({@code coffer import}):
     *     its time may be older than the group's newest (it must not exist yet), the session has no
     *     base, and the manifest's parent is taken as history rather than checked against a base
     */
    public record BeginBackupRequest(String ns, String group, String time, String crypt, String keyFingerprint,
            @JsonProperty("import") Boolean isImport) {

        /** A plain backup session. */
        public BeginBackupRequest(String ns, String group, String time, String crypt, String keyFingerprint) {
            this(ns, group, time, crypt, keyFingerprint, null);
        }

        /** True for an import session. */
        public boolean importing() {
            return Boolean.TRUE.equals(isImport);
        }
    }

    /**
     * @param base the restore point the session may reuse digests from, or null
     * @param baseBad digests of the base that verify found bad: read and upload them even where clean
     * @param dedupScope {@code session} or {@code datastore}: with {@code datastore}, ask {@code known}
     *     before uploading a new chunk, since the datastore may already hold it
     * @param leaseS seconds the session lives without a request: the client sends heartbeats well
     *     within it (0 from a server that does not say)
     */
    /** @param noBaseReason {@code key-changed} when the group's newest restore point is under another key, else null */
    public record BeginBackupResponse(String session, String datastoreUuid, int chunkSize, String base, List<String> baseBad,
            String dedupScope, long leaseS, String noBaseReason) {}

    public record UploadResult(String outcome) {}

    public record KnownRequest(List<String> digests) {}

    public record KnownResponse(List<Boolean> known) {}

    public record FinishResponse(String snapshot) {}

    public record OpenReaderRequest(String snapshot) {}

    /** @param leaseS seconds the reader lives without a request (0 from a server that does not say) */
    public record OpenReaderResponse(String reader, String snapshot, long leaseS) {}

    public record GrantInfo(String datastore, String ns, String role) {}

    public record TokenCreateRequest(String name, List<GrantInfo> grants) {}

    public record TokenCreated(String id, String token) {}

    public record TokenInfo(String id, String name, List<GrantInfo> grants, String created, String revoked) {}

    public record ProtectRequest(@JsonProperty("protected") boolean isProtected) {}
}
