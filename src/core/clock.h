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

#endif
