package dev.coffer.agent.vm;

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
        // format nodes before the file nodes under them; a filter a job left goes with its job
        List<BlockNode> nodes = qmp.queryNamedBlockNodes(true);
        for (boolean fileNodes : new boolean[] {false, true}) {
            for (BlockNode n : nodes) {
                if (n.nodeName().startsWith(prefix) && n.nodeName().endsWith("-f") == fileNodes
                        && !n.nodeName().endsWith("-cbw") && qmp.node(n.nodeName()).isPresent()) {
                    qmp.blockdevDel(n.nodeName());
                    removed.add("node " + n.nodeName());
                }
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
