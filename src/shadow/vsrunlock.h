/*
 * vsrunlock.h: one lock file per shadow run, so gc leaves a run in
 * progress alone
 *
 * A run holds an exclusive flock() on DIR/RUNID.lock from before it
 * records itself or makes anything until its cleanup is over; the kernel
 * drops it when the process dies, even by SIGKILL.  gc asks whether a
 * run's lock is held before it removes anything of that run.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The directory of run locks under @state_dir. */
char *vsRunLockDir(const char *state_dir);

/* Take @run_id's lock in @dir (made 0700 if need be; the file 0600).
 * Returns the descriptor that holds it, or -1 with @error (held by
 * another process, or the file cannot be made). */
int vsRunLockAcquire(const char *dir, const char *run_id, GError **error);

/* Drop the lock taken by vsRunLockAcquire() and remove its file. */
void vsRunLockRelease(const char *dir, const char *run_id, int fd);

/* Whether another open file holds @run_id's lock in @dir (NULL: none is
 * ever held). */
gboolean vsRunLockHeld(const char *dir, const char *run_id);

/* The ids of the runs with a lock file in @dir; only those whose lock is
 * held now when @held_only. */
GPtrArray *vsRunLockList(const char *dir, gboolean held_only);

/* Remove @run_id's lock file unless its lock is held. */
void vsRunLockRemoveStale(const char *dir, const char *run_id);

G_END_DECLS
