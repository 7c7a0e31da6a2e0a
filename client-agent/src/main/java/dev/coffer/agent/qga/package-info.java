/**
 * The qemu-guest-agent client used by {@code coffer backup --fsfreeze}: the guest's filesystems are
 * frozen only around the instant its drives are frozen, and thawed whatever happens.
 */
package dev.coffer.agent.qga;
