package dev.coffer.agent.qmp;

import java.io.IOException;

/**
 * A QMP failure. For an error reply, {@link #errorClass()} and {@link #desc()} are QEMU's
 * {@code error.class} and {@code error.desc} and {@link #command()} is the command that got it; for a
 * connection problem (closed socket, no greeting, timeout) the error class is {@code null}.
 */
public class QmpException extends IOException {

    private final String command;
    private final String errorClass;
    private final String desc;

    public QmpException(String command, String errorClass, String desc) {
        super(message(command, errorClass, desc));
        this.command = command;
        this.errorClass = errorClass;
        this.desc = desc;
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
        this.command = null;
        this.errorClass = null;
        this.desc = message;
    }

    private static String message(String command, String errorClass, String desc) {
        StringBuilder b = new StringBuilder("QMP");
        if (command != null) {
            b.append(' ').append(command);
        }
        b.append(" failed");
        if (errorClass != null) {
            b.append(" (").append(errorClass).append(')');
        }
        return b.append(": ").append(desc).toString();
    }

    /** The command that failed, or null. */
    public String command() {
        return command;
    }

    /** QEMU's error class (GenericError, CommandNotFound, DeviceNotFound, …), or null if QEMU sent no error. */
    public String errorClass() {
        return errorClass;
    }

    /** QEMU's human-readable description (or our own for connection problems). */
    public String desc() {
        return desc;
    }
}
