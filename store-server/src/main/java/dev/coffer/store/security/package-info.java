/**
 * Who may talk to the store and how the connection is protected, as plain synchronous Java for
 * the HTTP layer to call: {@link dev.coffer.store.security.TokenStore} turns a bearer token into
 * a {@link dev.coffer.store.security.Principal} whose grants answer "may this token do that,
 * there?", and {@link dev.coffer.store.security.ServerCertificate} is the TLS identity the store
 * generates on first start and clients pin by fingerprint. docs/security.md is the operator's view.
 */
package dev.coffer.store.security;
