/*
 * clock.h — the one clock every timer in haar reads (DESIGN.md "One clock").
 *
 * By default the clock is the real one: clock_now_ms() is CLOCK_REALTIME in epoch
 * milliseconds and clock_mono_ms() is CLOCK_MONOTONIC. Tests switch to a manual clock
 * (clock_set_manual) and move it with clock_advance_ms; both readings then move together.
 * Durations that are only measured, never scheduled (e.g. REPORT Duration), may use
 * clock_mono_ns, which is always real.
 * The clock is process-global; call it from one thread (the event loop) in the daemon.
 * Reading the real clock is thread-safe; switching or moving the manual clock is not.
 */
#ifndef HAAR_CORE_CLOCK_H
#define HAAR_CORE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Epoch milliseconds (real, or the manual clock's current value). */
int64_t clock_now_ms(void);

/* Monotonic milliseconds for scheduling timers (manual clock: same as clock_now_ms). */
int64_t clock_mono_ms(void);

/* Real monotonic nanoseconds, for measuring durations. Never manual. */
int64_t clock_mono_ns(void);

/* Real monotonic milliseconds (TIMER_REAL timers), whatever the clock mode. */
int64_t clock_real_mono_ms(void);

/* Real epoch milliseconds, whatever the clock mode: for what leaves the daemon and must be
 * true time, such as the deadline a Lambda runtime is given. */
int64_t clock_real_now_ms(void);

/* Switches to a manual clock starting at epoch_ms. */
void clock_set_manual(int64_t epoch_ms);

/* Moves the manual clock forward (no-op on the real clock). */
void clock_advance_ms(int64_t ms);

/* Returns to the real clock. */
void clock_set_real(void);

/* True while the manual clock is in use. */
bool clock_is_manual(void);

/* Formats epoch ms as "2026-11-25T12:00:00.000+0000" (Lambda LastModified style) into out.
 * Returns the length written, or -1 if out is too small (needs 29 bytes). */
int clock_format_lambda(int64_t epoch_ms, char *out, size_t outlen);

/* Formats epoch ms as "YYYY/MM/DD" (log stream prefix). Returns length or -1 (needs 11). */
int clock_format_ymd_slash(int64_t epoch_ms, char *out, size_t outlen);

/* Formats epoch ms as "2026-01-01T00:00:00Z" (whole seconds; needs 21 bytes), or with
 * milliseconds "2026-01-01T00:00:00.000Z" when ms is true (needs 25). Returns the length, or
 * -1 when out is too small or the time is before 1970. */
int clock_format_iso(int64_t epoch_ms, bool ms, char *out, size_t outlen);

/*
 * Parses an ISO-8601 UTC date or date-time of years 1970..9999 into epoch ms: "YYYY-MM-DD",
 * or "YYYY-MM-DDTHH:MM[:SS[.fraction]]" ('t' or a space may replace 'T') optionally
 * followed by "Z" or "+HH:MM" / "-HH:MM" / "+HHMM" (no suffix means UTC). The whole
 * NUL-terminated string must match. Returns 0, or -1 (out unchanged).
 */
int clock_parse_iso8601(const char *s, int64_t *out_ms);

#endif
