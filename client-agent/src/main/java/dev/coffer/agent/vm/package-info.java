/**
 * Backups of running VMs through QMP: drive resolution, checkpoint chains, the point-in-time freeze
 * (a copy-before-write filter for guest devices, a fleecing job for exported nodes), NBD export of
 * the views, the scratch guard, and removal of what killed runs left behind.
 */
package dev.coffer.agent.vm;
