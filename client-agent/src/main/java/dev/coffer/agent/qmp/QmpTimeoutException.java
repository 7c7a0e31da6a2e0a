package dev.coffer.agent.qmp;

/** A command got no reply within its timeout. The connection is closed: a late reply cannot be matched safely. */
public final class QmpTimeoutException extends QmpException {

    public QmpTimeoutException(String command, String message) {
        super(command, null, message);
    }
}
