/*
 * schedule.c — rate(...) and cron(...) schedule expressions (see schedule.h).
 *
 * A cron expression compiles to bit sets (minutes, hours, months, years) plus the two day
 * rules, which depend on the month and are turned into a day mask for each (year, month)
 * the search visits. events_schedule_next walks years, months, days, hours and minutes
 * forward from the instant, skipping whole months or years that cannot match, and stops
 * at 2199: at most 230 years × 12 months of masks, never a loop without end.
 */
#include "cloud/events/schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_MINUTE   60000LL
#define MS_PER_DAY      86400000LL
#define RATE_MAX_DIGITS 9

/* ------------------------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, UTC)                                        */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m];
}

/* Day of week of a day number: 1 = Sunday .. 7 = Saturday (1970-01-01 was a Thursday). */
static int weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 4) % 7) + 1;
}

/* ------------------------------------------------------------------------------------ */
/* Parsing                                                                               */

struct perr {
    char *buf;
    size_t len;
};

static int fail(struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct perr *e, const char *fmt, ...)
{
    if (e->buf != NULL && e->len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
        for (char *p = e->buf; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return -1;
}

static bool same(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* rate(value unit): `in` is the text inside the parentheses, n bytes. */
static int parse_rate(const char *in, size_t n, struct events_schedule *out, struct perr *e)
{
    static const struct {
        const char *singular, *plural;
        int64_t ms;
    } units[] = {
        {"minute", "minutes", MS_PER_MINUTE},
        {"hour", "hours", 60 * MS_PER_MINUTE},
        {"day", "days", MS_PER_DAY},
    };
    size_t i = 0;
    int64_t value = 0;
    while (i < n && in[i] >= '0' && in[i] <= '9') {
        if (i >= RATE_MAX_DIGITS)
            return fail(e, "the rate value is too large");
        value = value * 10 + (in[i] - '0');
        i++;
    }
    if (i == 0 || value == 0 || in[0] == '0')
        return fail(e, "the rate value must be a positive integer (no sign, no leading zero)");
    if (i >= n || in[i] != ' ' || i + 1 >= n)
        return fail(e, "must be rate(value unit), e.g. rate(5 minutes)");
    const char *unit = in + i + 1;
    size_t ulen = n - i - 1;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        bool sing = same(unit, ulen, units[u].singular);
        bool plur = same(unit, ulen, units[u].plural);
        if (sing && value != 1)
            return fail(e, "use the plural unit \"%s\" when the value is not 1", units[u].plural);
        if (plur && value == 1)
            return fail(e, "use the singular unit \"%s\" when the value is 1", units[u].singular);
        if (sing || plur) {
            memset(out, 0, sizeof *out);
            out->kind = EVENTS_SCHEDULE_RATE;
            out->period_ms = value * units[u].ms;
            return 0;
        }
    }
    return fail(e, "the unit must be minute(s), hour(s) or day(s)");
}

enum field_id { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR, F_COUNT };

/* The six cron fields: range, largest increment, names (value = index + min). */
static const struct field_rule {
    const char *name;
    int min, max;
    int step_max;
    const char *const *names;
    bool wraps;
} FIELDS[F_COUNT] = {
    [F_MIN] = {"minutes", 0, 59, 59, NULL, true},
    [F_HOUR] = {"hours", 0, 23, 23, NULL, true},
    [F_DOM] = {"day-of-month", 1, 31, 31, NULL, true},
    [F_MONTH] = {"month", 1, 12, 12,
                 (const char *const[]){"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                       "SEP", "OCT", "NOV", "DEC", NULL},
                 true},
    [F_DOW] = {"day-of-week", 1, 7, 7,
               (const char *const[]){"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL}, true},
    [F_YEAR] = {"year", EVENTS_CRON_YEAR_MIN, EVENTS_CRON_YEAR_MAX, EVENTS_CRON_YEAR_MAX, NULL,
                false},
};

/* A set of values of one field, bit (value - min). 256 bits cover the 230 years. */
struct vset {
    uint64_t w[4];
};

static void vset_add(struct vset *v, int bit)
{
    v->w[bit >> 6] |= 1ULL << (bit & 63);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Reads a number (up to 4 digits) or a three-letter name at s[*i]. */
static bool read_value(const struct field_rule *f, const char *s, size_t n, size_t *i, int *out)
{
    if (*i < n && is_digit(s[*i])) {
        int v = 0, nd = 0;
        while (*i < n && is_digit(s[*i])) {
            if (++nd > 4)
                return false;
            v = v * 10 + (s[*i] - '0');
            (*i)++;
        }
        *out = v;
        return true;
    }
    if (f->names == NULL || *i + 3 > n)
        return false;
    for (int k = 0; f->names[k] != NULL; k++) {
        const char *nm = f->names[k];
        if (upper(s[*i]) == nm[0] && upper(s[*i + 1]) == nm[1] && upper(s[*i + 2]) == nm[2]) {
            *i += 3;
            *out = f->min + k;
            return true;
        }
    }
    return false;
}

static int bad_value(const struct field_rule *f, const char *s, size_t n, struct perr *e)
{
    return fail(e, "%s field: \"%.*s\" is not valid (values %d-%d%s, with , - * /)", f->name,
                (int)(n > 40 ? 40 : n), s, f->min, f->max, f->names ? " or names" : "");
}

/* One list item: "*", "v", "a-b", each optionally "/step". Adds its values to *set. */
static int parse_item(const struct field_rule *f, const char *s, size_t n, struct vset *set,
                      struct perr *e)
{
    size_t i = 0;
    int lo, hi, step = 1;
    bool single = false;
    if (n > 0 && s[0] == '*') {
        lo = f->min;
        hi = f->max;
        i = 1;
    } else {
        if (!read_value(f, s, n, &i, &lo))
            return bad_value(f, s, n, e);
        hi = lo;
        single = true;
        if (i < n && s[i] == '-') {
            i++;
            if (!read_value(f, s, n, &i, &hi))
                return bad_value(f, s, n, e);
            single = false;
        }
        if (lo < f->min || lo > f->max || hi < f->min || hi > f->max)
            return fail(e, "%s field: %d is out of range %d-%d", f->name,
                        lo < f->min || lo > f->max ? lo : hi, f->min, f->max);
        if (hi < lo && !f->wraps)
            return fail(e, "%s field: the range %d-%d runs backwards", f->name, lo, hi);
    }
    if (i < n && s[i] == '/') {
        i++;
        size_t start = i;
        step = 0;
        while (i < n && is_digit(s[i]) && i - start < 5)
            step = step * 10 + (s[i++] - '0');
        if (i == start || i != n)
            return bad_value(f, s, n, e);
        if (step < 1 || step > f->step_max)
            return fail(e, "%s field: the increment %d is out of range 1-%d", f->name, step,
                        f->step_max);
        if (single)
            hi = f->max; /* "a/s": from a to the end of the range */
    }
    if (i != n)
        return bad_value(f, s, n, e);
    int span = f->max - f->min + 1;
    int count = hi >= lo ? hi - lo + 1 : (f->max - lo + 1) + (hi - f->min + 1);
    for (int k = 0; k < count; k += step)
        vset_add(set, (lo - f->min + k) % span);
    return 0;
}

/* Day-of-month specials, alone in the field: "L", "L-n", "LW", "nW". 1 = handled. */
static int parse_dom_special(const char *s, size_t n, struct events_schedule *out, struct perr *e)
{
    if (n >= 1 && upper(s[0]) == 'L') {
        if (n == 1) {
            out->dom_last = true;
            return 1;
        }
        if (n == 2 && upper(s[1]) == 'W') {
            out->dom_last_weekday = true;
            return 1;
        }
        if (s[1] == '-' && n >= 3 && n <= 4 && is_digit(s[2]) && (n == 3 || is_digit(s[3]))) {
            int off = s[2] - '0';
            if (n == 4)
                off = off * 10 + (s[3] - '0');
            if (off < 1 || off > 30)
                return fail(e, "day-of-month field: the offset in \"L-%d\" is out of range 1-30",
                            off);
            out->dom_last = true;
            out->dom_last_offset = off;
            return 1;
        }
        return fail(e, "day-of-month field: \"%.*s\" is not valid (L, L-n, LW, nW or values)",
                    (int)(n > 40 ? 40 : n), s);
    }
    if (n >= 2 && n <= 3 && upper(s[n - 1]) == 'W') {
        int d = 0;
        for (size_t k = 0; k + 1 < n; k++) {
            if (!is_digit(s[k]))
                return fail(e, "day-of-month field: \"%.*s\" is not valid (W follows one day)",
                            (int)n, s);
            d = d * 10 + (s[k] - '0');
        }
        if (d < 1 || d > 31)
            return fail(e, "day-of-month field: %d is out of range 1-31", d);
        out->dom_nearest = d;
        return 1;
    }
    return 0;
}

/* Day-of-week specials, alone in the field: "L", "nL", "n#k". 1 = handled. */
static int parse_dow_special(const char *s, size_t n, struct events_schedule *out, struct perr *e)
{
    const struct field_rule *f = &FIELDS[F_DOW];
    if (n == 1 && upper(s[0]) == 'L') {
        out->dow_days = 1u << 7; /* "L" alone: the last day of the week, Saturday */
        return 1;
    }
    const char *hash = memchr(s, '#', n);
    bool last = n >= 2 && upper(s[n - 1]) == 'L';
    if (hash == NULL && !last)
        return 0;
    size_t i = 0;
    int day;
    if (!read_value(f, s, n, &i, &day) || day < 1 || day > 7)
        return fail(e, "day-of-week field: \"%.*s\" is not valid (n#k or nL with n 1-7 or SUN-SAT)",
                    (int)(n > 40 ? 40 : n), s);
    if (last) {
        if (i != n - 1)
            return fail(e, "day-of-week field: \"%.*s\" is not valid (nL)", (int)(n > 40 ? 40 : n),
                        s);
        out->dow_last = day;
        return 1;
    }
    if (s + i != hash || i + 2 != n || s[i + 1] < '1' || s[i + 1] > '5')
        return fail(e, "day-of-week field: \"%.*s\" is not valid (n#k with k 1-5, one term only)",
                    (int)(n > 40 ? 40 : n), s);
    out->dow_nth_day = day;
    out->dow_nth = s[i + 1] - '0';
    return 1;
}

/* One whole field: "?" (day fields only), a special (day fields), or a list of items. */
static int parse_field(enum field_id id, const char *s, size_t n, struct events_schedule *out,
                       struct vset *set, struct perr *e)
{
    const struct field_rule *f = &FIELDS[id];
    if (n == 1 && s[0] == '?') {
        if (id != F_DOM && id != F_DOW)
            return fail(e, "%s field: \"?\" is allowed only in day-of-month or day-of-week",
                        f->name);
        if (id == F_DOM)
            out->dom_any = true;
        else
            out->dow_any = true;
        return 0;
    }
    int r = 0;
    if (id == F_DOM)
        r = parse_dom_special(s, n, out, e);
    else if (id == F_DOW)
        r = parse_dow_special(s, n, out, e);
    if (r != 0)
        return r < 0 ? -1 : 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ',')
            continue;
        if (i == start)
            return bad_value(f, s, n, e);
        if (parse_item(f, s + start, i - start, set, e) != 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int parse_cron(const char *in, size_t n, struct events_schedule *out, struct perr *e)
{
    const char *field[F_COUNT];
    size_t flen[F_COUNT];
    int count = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space(in[i]))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        while (i < n && !is_space(in[i]))
            i++;
        if (count < F_COUNT) {
            field[count] = in + start;
            flen[count] = i - start;
        }
        count++;
    }
    if (count != F_COUNT)
        return fail(e,
                    "a cron expression has 6 fields (minutes hours day-of-month month day-of-week "
                    "year), got %d",
                    count);
    struct events_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = EVENTS_SCHEDULE_CRON;
    struct vset sets[F_COUNT];
    memset(sets, 0, sizeof sets);
    for (int f = 0; f < F_COUNT; f++)
        if (parse_field((enum field_id)f, field[f], flen[f], &s, &sets[f], e) != 0)
            return -1;
    if (s.dom_any == s.dow_any)
        return fail(e, "exactly one of day-of-month and day-of-week must be \"?\"");
    s.minutes = sets[F_MIN].w[0];
    s.hours = (uint32_t)sets[F_HOUR].w[0];
    s.dom_days = (uint32_t)(sets[F_DOM].w[0] << 1);
    s.months = (uint32_t)(sets[F_MONTH].w[0] << 1);
    s.dow_days |= (uint8_t)(sets[F_DOW].w[0] << 1);
    memcpy(s.years, sets[F_YEAR].w, sizeof s.years);
    *out = s;
    return 0;
}

int events_schedule_parse(const char *expr, size_t len, struct events_schedule *out, char *detail,
                          size_t detaillen)
{
    struct perr e = {detail, detaillen};
    struct events_schedule tmp;
    if (detail != NULL && detaillen > 0)
        detail[0] = '\0';
    if (len > EVENTS_SCHEDULE_MAX_LEN)
        return fail(&e, "is longer than %d characters", EVENTS_SCHEDULE_MAX_LEN);
    if (memchr(expr, '\0', len) != NULL)
        return fail(&e, "must be rate(value unit) or cron(6 fields)");
    int rc;
    if (len >= 6 && expr[len - 1] == ')' && memcmp(expr, "rate(", 5) == 0)
        rc = parse_rate(expr + 5, len - 6, &tmp, &e);
    else if (len >= 6 && expr[len - 1] == ')' && memcmp(expr, "cron(", 5) == 0)
        rc = parse_cron(expr + 5, len - 6, &tmp, &e);
    else
        rc = fail(&e, "must be rate(value unit) or cron(6 fields)");
    if (rc == 0 && out != NULL)
        *out = tmp;
    return rc;
}

bool events_schedule_valid(const char *expr, size_t len)
{
    return events_schedule_parse(expr, len, NULL, NULL, 0) == 0;
}

/* ------------------------------------------------------------------------------------ */
/* Fire times                                                                            */

static bool year_set(const struct events_schedule *s, int64_t y)
{
    int bit = (int)(y - EVENTS_CRON_YEAR_MIN);
    return (s->years[bit >> 6] >> (bit & 63)) & 1;
}

/* Days of (y, m) that the day rules allow: bit d for day d (1..31). */
static uint32_t day_mask(const struct events_schedule *s, int64_t y, int m)
{
    int nd = days_in_month(y, m);
    int64_t first = days_from_civil(y, m, 1);
    int wd1 = weekday(first); /* weekday of day 1 */
    uint32_t all = (uint32_t)(((1ULL << nd) - 1) << 1);
    uint32_t mask = 0;
#define WD(day) ((wd1 - 1 + (day)-1) % 7 + 1)
    if (!s->dom_any) {
        mask = s->dom_days & all;
        if (s->dom_last && nd - s->dom_last_offset >= 1)
            mask |= 1u << (nd - s->dom_last_offset);
        if (s->dom_last_weekday) {
            int d = nd, w = WD(nd);
            d -= w == 7 ? 1 : w == 1 ? 2 : 0;
            mask |= 1u << d;
        }
        if (s->dom_nearest != 0 && s->dom_nearest <= nd) {
            int d = s->dom_nearest, w = WD(d);
            if (w == 7) /* Saturday: the Friday before, or Monday when that leaves the month */
                d = d == 1 ? 3 : d - 1;
            else if (w == 1) /* Sunday: the Monday after, or Friday when that leaves it */
                d = d == nd ? d - 2 : d + 1;
            mask |= 1u << d;
        }
    } else {
        for (int d = 1; d <= nd; d++)
            if ((s->dow_days >> WD(d)) & 1)
                mask |= 1u << d;
        if (s->dow_last != 0) {
            int d = nd - ((WD(nd) - s->dow_last + 7) % 7);
            mask |= 1u << d;
        }
        if (s->dow_nth != 0) {
            int d = 1 + (s->dow_nth_day - wd1 + 7) % 7 + 7 * (s->dow_nth - 1);
            if (d <= nd)
                mask |= 1u << d;
        }
    }
#undef WD
    return mask;
}

/* Lowest set bit of `bits` at or above `from`, or -1. */
static int next_bit(uint64_t bits, int from)
{
    if (from >= 64)
        return -1;
    bits &= ~0ULL << from;
    return bits == 0 ? -1 : __builtin_ctzll(bits);
}

static int64_t next_cron(const struct events_schedule *s, int64_t after_ms)
{
    int64_t minute = floor_div(after_ms, MS_PER_MINUTE) + 1; /* strictly after */
    int64_t days = floor_div(minute, 1440);
    int mod = (int)(minute - days * 1440);
    int64_t y;
    int m, d, h = mod / 60, mi = mod % 60;
    civil_from_days(days, &y, &m, &d);
    if (y < EVENTS_CRON_YEAR_MIN) {
        y = EVENTS_CRON_YEAR_MIN;
        m = d = 1;
        h = mi = 0;
    }
    for (; y <= EVENTS_CRON_YEAR_MAX; y++, m = 1, d = 1, h = 0, mi = 0) {
        if (!year_set(s, y))
            continue;
        for (; m <= 12; m++, d = 1, h = 0, mi = 0) {
            if (!((s->months >> m) & 1))
                continue;
            uint32_t dmask = day_mask(s, y, m);
            for (int dd = next_bit(dmask, d); dd > 0; dd = next_bit(dmask, dd + 1)) {
                if (dd != d) /* a later day: from its first minute */
                    h = mi = 0;
                d = dd;
                for (int hh = next_bit(s->hours, h); hh >= 0; hh = next_bit(s->hours, hh + 1)) {
                    int found = next_bit(s->minutes, hh == h ? mi : 0);
                    if (found >= 0)
                        return (days_from_civil(y, m, d) * 1440 + hh * 60 + found) * MS_PER_MINUTE;
                }
                h = mi = 0;
                d = dd + 1;
            }
        }
    }
    return EVENTS_SCHEDULE_NONE;
}

static int64_t next_rate(const struct events_schedule *s, int64_t anchor_ms, int64_t after_ms)
{
    int64_t k = 1;
    if (after_ms >= anchor_ms) {
        int64_t diff;
        if (__builtin_sub_overflow(after_ms, anchor_ms, &diff))
            return EVENTS_SCHEDULE_NONE;
        k = diff / s->period_ms + 1;
    }
    int64_t off, t;
    if (__builtin_mul_overflow(k, s->period_ms, &off) || __builtin_add_overflow(anchor_ms, off, &t))
        return EVENTS_SCHEDULE_NONE;
    return t;
}

int64_t events_schedule_next(const struct events_schedule *s, int64_t anchor_ms, int64_t after_ms)
{
    if (s->kind == EVENTS_SCHEDULE_RATE)
        return next_rate(s, anchor_ms, after_ms);
    return next_cron(s, after_ms);
}
