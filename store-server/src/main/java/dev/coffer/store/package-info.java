/**
 * The store server: datastores (chunk files, RocksDB index, restore point directories), backup and
 * reader sessions, and the HTTP API as thin Vert.x adapters over a plain synchronous core.
 * (Filled by the store work; the module exists so the build's shape is final.)
 */
package dev.coffer.store;
