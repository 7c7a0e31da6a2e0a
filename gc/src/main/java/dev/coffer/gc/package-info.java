/**
 * Retention and reclamation as pure algorithms: prune planning, mark-and-sweep planning under the
 * datastore safety contract, verify planning and the shared {@code Schedule} grammar. They talk to
 * storage through small interfaces defined here, so they are tested with tables and fake clocks.
 * (Filled by the retention work; the module exists so the build's shape is final.)
 */
package dev.coffer.gc;
