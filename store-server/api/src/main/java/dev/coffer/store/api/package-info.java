/**
 * The store's HTTP API as the other side sees it: wire types (JSON records) and a Vert.x client
 * that pins the server's certificate fingerprint. Used by the agent, the CLI and the server's own
 * sync, so all three speak exactly the same protocol. See docs/api.md.
 */
package dev.coffer.store.api;
