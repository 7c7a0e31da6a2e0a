/**
 * The composition root: the {@code coffer} launcher command.
 *
 * <p>Every module contributes picocli command classes for its own subcommands; this package wires
 * them under one root, {@link dev.coffer.cli.Coffer}, and owns what must be the same for all of
 * them: {@code --help}, {@code --version}, {@code --debug}, exit codes and the one-line error
 * message. {@code bin/coffer} (deploy/src/main/dist) starts it with the right JDK and heap.
 */
package dev.coffer.cli;
