/**
 * The host agent and client operations: NBD and QMP clients, block sources, the backup pipeline,
 * restore, serving a restore point over NBD, archives and the agent's scheduler.
 * (Filled by the agent work; the module exists so the build's shape is final.)
 */
package dev.coffer.agent;
