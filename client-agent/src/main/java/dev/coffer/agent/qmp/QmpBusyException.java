package dev.coffer.agent.qmp;

/**
 * No QMP greeting arrived in time. A QMP socket serves one client at a time and a second client gets
 * no greeting until the first disconnects, so this almost always means another client (libvirt, an
 * operator's socat, another agent run) holds the socket.
 */
public final class QmpBusyException extends QmpException {

    public QmpBusyException(String message) {
        super(message, null);
    }
}
