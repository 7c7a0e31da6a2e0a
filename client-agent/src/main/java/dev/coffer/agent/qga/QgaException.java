package dev.coffer.agent.qga;

import java.io.IOException;

/** The guest agent could not be reached, did not answer in time, or refused a command. */
public final class QgaException extends IOException {

    private static final long serialVersionUID = 1L;

    public QgaException(String message, Throwable cause) {
        super(message, cause);
    }
}
