/*
 * fs.h — small file-system helpers shared by the modules that keep files under the state dir.
 * Stateless, thread-safe (as the system calls are).
 */
#ifndef HAAR_CORE_FS_H
#define HAAR_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates path and its missing parents with mode (existing folders are left as they are).
 * Returns 0, or -1 with errno. */
int fs_mkdir_p(const char *path, mode_t mode);

/* Removes path and everything under it (does not follow symlinks). Absent is not an error.
 * Returns 0, or -1 with errno when something could not be removed. */
int fs_remove_tree(const char *path);

/* Bytes used by the regular files under path (not following symlinks); 0 when absent. */
int64_t fs_tree_size(const char *path);

/* Writes len bytes to path through a temporary file in the same folder, fsynced and renamed
 * into place, with mode. Returns 0, or -1 with errno (path untouched). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
