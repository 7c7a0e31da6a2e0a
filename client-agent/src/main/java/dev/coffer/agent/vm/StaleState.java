package dev.coffer.agent.vm;

import dev.coffer.agent.qmp.BlockDevice;
import dev.coffer.agent.qmp.BlockExport;
import dev.coffer.agent.qmp.BlockJob;
import dev.coffer.agent.qmp.BlockNode;
import dev.coffer.agent.qmp.DirtyBitmap;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Removes what a killed backup left in QEMU and in the scratch directory: exports, fleecing jobs,
 * scratch nodes, temporary bitmaps and scratch files whose names start with the agent's temporary
 * prefix (scratch files: the prefix of this QEMU's files only). Safe because a backup holds the QMP connection for its whole run: while this agent is
 * connected no other Coffer backup of this QEMU can be running. Checkpoint bitmaps are not touched
 * here (they carry a different prefix and are the chain {@code CheckpointPlan} manages).
 */
final class StaleState {

    private static final Duration GONE = Duration.ofSeconds(30);

    private StaleState() {}

    /** Removes every stale object; returns what it removed, for the log. */
    static List<String> remove(QmpBlock qmp, Path scratchDir, String prefix, String filePrefix) throws QmpException {
        List<String> removed = new ArrayList<>();
        for (BlockExport e : qmp.queryBlockExports()) {
            if (e.id().startsWith(prefix)) {
                qmp.deleteExport(e.id(), true);
                qmp.awaitExportGone(e.id(), GONE);
                removed.add("export " + e.id());
            }
        }
        for (BlockJob j : qmp.queryBlockJobs()) {
            if (j.id().startsWith(prefix)) {
                qmp.jobCancel(j.id());
                qmp.awaitJobGone(j.id(), GONE);
                removed.add("job " + j.id());
            }
        }
        // a view holds its filter's permissions: the device can only leave the filter once the view is gone
        for (BlockNode n : qmp.queryNamedBlockNodes(true)) {
            if (n.nodeName().startsWith(prefix) && "snapshot-access".equals(n.driver())) {
                qmp.blockdevDel(n.nodeName());
                removed.add("node " + n.nodeName());
            }
        }
        // a guest device a killed run left on its copy-before-write filter goes back to its own node
        for (BlockDevice d : qmp.queryBlock()) {
            if (d.nodeName() != null && d.nodeName().startsWith(prefix) && d.qomPath() != null) {
                String original = qmp.childOf(d.nodeName(), "file").orElseThrow(() -> new QmpException("clean up", null,
                        "device " + d.qomPath() + " sits on a stale filter " + d.nodeName() + " whose node cannot be found"));
                boolean running = qmp.running();
                if (running) {
                    qmp.stop();
                }
                try {
                    qmp.setDeviceDrive(d.qomPath(), original);
                } finally {
                    if (running) {
                        qmp.cont();
                    }
                }
                removed.add("filter " + d.nodeName() + " (device " + d.qomPath() + " back on " + original + ")");
            }
        }
        // views, filters, scratch images, their file nodes: each pass removes those nothing uses any more
        for (int pass = 0; pass < 6; pass++) {
            List<String> left = qmp.queryNamedBlockNodes(true).stream().map(BlockNode::nodeName).filter(n -> n.startsWith(prefix))
                    .toList();
            if (left.isEmpty()) {
                break;
            }
            QmpException last = null;
            int before = removed.size();
            for (String n : left) {
                try {
                    qmp.blockdevDel(n);
                    removed.add("node " + n);
                } catch (QmpException e) {
                    last = e; // still in use by a node removed later in this pass, or by the next pass
                }
            }
            if (removed.size() == before && last != null) {
                throw new QmpException("cannot remove stale nodes " + left + ": " + last.getMessage(), last);
            }
        }
        for (BlockNode n : qmp.queryNamedBlockNodes(true)) {
            for (DirtyBitmap b : n.namedBitmaps()) {
                if (b.name().startsWith(prefix)) {
                    qmp.removeBitmap(n.nodeName(), b.name());
                    removed.add("bitmap " + n.nodeName() + "/" + b.name());
                }
            }
        }
        if (Files.isDirectory(scratchDir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(scratchDir, filePrefix + "*.qcow2")) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                    removed.add("scratch file " + f);
                }
            } catch (IOException e) {
                throw new QmpException("cannot clean the scratch directory " + scratchDir + ": " + e.getMessage(), e);
            }
        }
        return removed;
    }

    /**
     * Stops the private NBD server a killed run started (its socket still answers: QEMU runs at most
     * one NBD server, so the one running is that one) and removes its socket file.
     */
    static java.util.Optional<String> removeNbdServer(QmpBlock qmp, Path socket) throws QmpException {
        if (!Files.exists(socket)) {
            return java.util.Optional.empty();
        }
        boolean ours = NbdEndpoint.answers(socket);
        if (ours) {
            qmp.stopNbdServer();
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new QmpException("cannot remove the stale NBD socket " + socket + ": " + e.getMessage(), e);
        }
        return java.util.Optional.of((ours ? "NBD server on " : "socket file ") + socket);
    }

    /** 8 hex digits naming something after {@code text} (a private NBD socket after its QMP socket). */
    static String shortHash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
