/*
 * log.h — the daemon's one logging module (STYLE.md rule 11).
 *
 * One line per event on stderr, key=value: `ts=2026-11-25T12:00:00.000Z level=info
 * event=invoke fn=haar-dev-api rid=<request id> msg="..."`. The level is checked
 * before anything is formatted (the LOG_* macros), so a disabled level costs one compare.
 * Libraries return errors; the daemon logs them. Not thread-safe beyond what stdio gives
 * (each line is one fprintf); the daemon logs from its loop thread.
 */
#ifndef HAAR_CORE_LOG_H
#define HAAR_CORE_LOG_H

#include <stdio.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
    LOG_LEVEL_OFF
};

extern enum log_level log_current_level;

/* Sets the level; names "debug", "info", "warn", "error", "off". Returns 0 or -1 if unknown. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level lvl);

/* Where lines go (default stderr); NULL restores stderr. Tests point it at a memstream. */
void log_set_stream(FILE *f);

/* Writes one line: event name, request id (may be NULL) and a printf-formatted message
 * that is quoted and escaped. Prefer the macros, which skip formatting below the level. */
void log_write(enum log_level lvl, const char *event, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, event, rid, ...)                                                               \
    do {                                                                                           \
        if ((lvl) >= log_current_level)                                                            \
            log_write((lvl), (event), (rid), __VA_ARGS__);                                         \
    } while (0)
#define LOG_DEBUG(event, rid, ...) LOG_AT(LOG_LEVEL_DEBUG, event, rid, __VA_ARGS__)
#define LOG_INFO(event, rid, ...)  LOG_AT(LOG_LEVEL_INFO, event, rid, __VA_ARGS__)
#define LOG_WARN(event, rid, ...)  LOG_AT(LOG_LEVEL_WARN, event, rid, __VA_ARGS__)
#define LOG_ERROR(event, rid, ...) LOG_AT(LOG_LEVEL_ERROR, event, rid, __VA_ARGS__)

#endif
