/**
 * The client-side {@code coffer} subcommands, as picocli command classes.
 *
 * <p>Each class parses options, calls plain code elsewhere in the module, and prints: a human
 * rendering by default, one JSON document on stdout with {@code --json}, progress on stderr. They
 * are composed under the root command {@code dev.coffer.cli.Coffer} in the {@code deploy} module,
 * which also owns exit codes and error reporting, so a command just throws: a
 * {@link picocli.CommandLine.ParameterException} for bad usage, anything else for a failure.
 */
package dev.coffer.agent.cli;
