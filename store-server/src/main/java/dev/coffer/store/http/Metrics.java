package dev.coffer.store.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters in Prometheus text format, for {@code /metrics}. A handful of LongAdders
 * and a renderer: not worth a metrics library yet.
 */
final class Metrics {

    final LongAdder chunksUploaded = new LongAdder();
    final LongAdder chunksStored = new LongAdder();
    final LongAdder bytesUploaded = new LongAdder();
    final LongAdder chunksServed = new LongAdder();
    final LongAdder bytesServed = new LongAdder();
    final LongAdder snapshotsPublished = new LongAdder();
    final LongAdder requestErrors = new LongAdder();
    final LongAdder uploadsRefused = new LongAdder();

    String render(int openBackups, int datastores, long uploadBytesHeld) {
        StringBuilder b = new StringBuilder();
        counter(b, "coffer_chunks_uploaded_total", "chunks received from backup sessions", chunksUploaded.sum());
        counter(b, "coffer_chunks_stored_total", "uploaded chunks that were new or replaced a bad one", chunksStored.sum());
        counter(b, "coffer_upload_bytes_total", "bytes of chunk blobs received", bytesUploaded.sum());
        counter(b, "coffer_chunks_served_total", "chunks sent to readers", chunksServed.sum());
        counter(b, "coffer_served_bytes_total", "bytes of chunk blobs sent to readers", bytesServed.sum());
        counter(b, "coffer_snapshots_published_total", "restore points published", snapshotsPublished.sum());
        counter(b, "coffer_request_errors_total", "requests answered with an error", requestErrors.sum());
        counter(b, "coffer_uploads_refused_total", "chunk uploads answered 503 busy: the upload memory budget was spent",
                uploadsRefused.sum());
        gauge(b, "coffer_backup_sessions_open", "backup sessions open now", openBackups);
        gauge(b, "coffer_datastores", "datastores served", datastores);
        gauge(b, "coffer_upload_bytes_held", "bytes of chunk upload bodies the server holds in memory now (reserved per request)",
                uploadBytesHeld);
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, long v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(v).append('\n');
    }
}
