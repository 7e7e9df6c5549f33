/*
 * num.c — DynamoDB numbers (see num.h): parsing with DynamoDB's checks, plain-decimal
 * rendering, comparison, exact addition, item-size cost and an order-preserving key form.
 */
#include "cloud/dynamodb/num.h"

#include <string.h>

/* Widest aligned sum: weights from 10^126 (a carry above 9.99E125) down to 10^-167 (the
 * last of 38 digits starting at 10^-130). */
#define ACC_DIGITS 300

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

void ddb_num_zero(struct ddb_num *n)
{
    memset(n, 0, sizeof *n);
}

bool ddb_num_is_zero(const struct ddb_num *n)
{
    return n->ndig == 0;
}

enum ddb_num_status ddb_num_parse(const char *s, size_t len, struct ddb_num *out)
{
    ddb_num_zero(out);
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    size_t int_at = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t nint = i - int_at;
    size_t frac_at = i, nfrac = 0;
    if (i < len && s[i] == '.') {
        frac_at = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        nfrac = i - frac_at;
    }
    if (nint + nfrac == 0)
        return DDB_NUM_EINVALID;
    long long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t exp_at = i;
        while (i < len && is_digit(s[i])) {
            if (exp <= 2147483647LL) /* beyond a Java int the text is not a number */
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == exp_at || exp > 2147483647LL)
            return DDB_NUM_EINVALID;
        if (eneg)
            exp = -exp;
    }
    if (i != len)
        return DDB_NUM_EINVALID;

    /* The mantissa digits as one sequence: index k has weight 10^(nint - 1 - k + exp). */
    size_t total = nint + nfrac;
#define MDIGIT(k) (s[(k) < nint ? int_at + (k) : frac_at + ((k) - nint)] - '0')
    size_t first = total, last = 0;
    for (size_t k = 0; k < total; k++) {
        if (MDIGIT(k) != 0) {
            if (first == total)
                first = k;
            last = k;
        }
    }
    if (first == total) {
        /* Zero: DynamoDB checks the magnitude BigDecimal gives it, exp - fraction digits. */
        long long mag = exp - (long long)nfrac;
        if (mag > DDB_NUM_EXP_MAX)
            return DDB_NUM_EOVERFLOW;
        if (mag < DDB_NUM_EXP_MIN)
            return DDB_NUM_EUNDERFLOW;
        return DDB_NUM_OK;
    }
    long long e = exp + (long long)nint - 1 - (long long)first;
    size_t sig = last - first + 1;
    if (e > DDB_NUM_EXP_MAX)
        return DDB_NUM_EOVERFLOW;
    if (e < DDB_NUM_EXP_MIN)
        return DDB_NUM_EUNDERFLOW;
    if (sig > DDB_NUM_DIGITS)
        return DDB_NUM_EPRECISION;
    out->exp = (int16_t)e;
    out->ndig = (uint8_t)sig;
    out->neg = neg ? 1 : 0;
    for (size_t k = 0; k < sig; k++)
        out->dig[k] = (uint8_t)MDIGIT(first + k);
#undef MDIGIT
    return DDB_NUM_OK;
}

int ddb_num_error(enum ddb_num_status st, const char *s, size_t len, struct ddb_err *err)
{
    switch (st) {
    case DDB_NUM_EOVERFLOW:
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "Number overflow. Attempting to store a number with magnitude "
                           "larger than supported range");
    case DDB_NUM_EUNDERFLOW:
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "Number underflow. Attempting to store a number with magnitude "
                           "smaller than supported range");
    case DDB_NUM_EPRECISION:
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "Attempting to store more than 38 significant digits in a Number");
    case DDB_NUM_OK:
    case DDB_NUM_EINVALID:
        break;
    }
    if (len == 0)
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "The parameter cannot be converted to a numeric value");
    return ddb_err_set(err, ERR_DDB_VALIDATION,
                       "The parameter cannot be converted to a numeric value: %.*s", (int)len, s);
}

void ddb_num_from_ll(struct ddb_num *out, long long v)
{
    ddb_num_zero(out);
    if (v == 0)
        return;
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    uint8_t tmp[20];
    int n = 0;
    while (m > 0) {
        tmp[n++] = (uint8_t)(m % 10);
        m /= 10;
    }
    out->neg = v < 0;
    out->exp = (int16_t)(n - 1);
    int lo = 0;
    while (tmp[lo] == 0)
        lo++;
    out->ndig = (uint8_t)(n - lo);
    for (int k = 0; k < out->ndig; k++)
        out->dig[k] = tmp[n - 1 - k];
}

size_t ddb_num_format(const struct ddb_num *n, char out[DDB_NUM_STR_MAX])
{
    size_t o = 0;
    if (n->ndig == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    if (n->neg)
        out[o++] = '-';
    if (n->exp >= 0) {
        for (int k = 0; k <= n->exp; k++)
            out[o++] = (char)('0' + (k < n->ndig ? n->dig[k] : 0));
        if (n->ndig > n->exp + 1) {
            out[o++] = '.';
            for (int k = n->exp + 1; k < n->ndig; k++)
                out[o++] = (char)('0' + n->dig[k]);
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int k = 0; k < -n->exp - 1; k++)
            out[o++] = '0';
        for (int k = 0; k < n->ndig; k++)
            out[o++] = (char)('0' + n->dig[k]);
    }
    out[o] = '\0';
    return o;
}

static int cmp_magnitude(const struct ddb_num *a, const struct ddb_num *b)
{
    if (a->exp != b->exp)
        return a->exp < b->exp ? -1 : 1;
    int n = a->ndig < b->ndig ? a->ndig : b->ndig;
    for (int k = 0; k < n; k++)
        if (a->dig[k] != b->dig[k])
            return a->dig[k] < b->dig[k] ? -1 : 1;
    return (a->ndig > b->ndig) - (a->ndig < b->ndig);
}

static int sign_of(const struct ddb_num *n)
{
    return n->ndig == 0 ? 0 : (n->neg ? -1 : 1);
}

int ddb_num_cmp(const struct ddb_num *a, const struct ddb_num *b)
{
    int sa = sign_of(a), sb = sign_of(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int m = cmp_magnitude(a, b);
    return sa > 0 ? m : -m;
}

/* Spreads n's digits into acc (index = weight - lo). */
static void spread(const struct ddb_num *n, int lo, uint8_t *acc)
{
    for (int k = 0; k < n->ndig; k++)
        acc[n->exp - k - lo] = n->dig[k];
}

static enum ddb_num_status add_signed(const struct ddb_num *a, const struct ddb_num *b,
                                      bool negate_b, struct ddb_num *out)
{
    struct ddb_num bb = *b;
    if (negate_b && bb.ndig != 0)
        bb.neg ^= 1;
    if (a->ndig == 0) {
        *out = bb;
        return DDB_NUM_OK;
    }
    if (bb.ndig == 0) {
        *out = *a;
        return DDB_NUM_OK;
    }
    int a_lo = a->exp - a->ndig + 1, b_lo = bb.exp - bb.ndig + 1;
    int lo = a_lo < b_lo ? a_lo : b_lo;
    int hi = (a->exp > bb.exp ? a->exp : bb.exp) + 1; /* room for a carry */
    uint8_t x[ACC_DIGITS] = {0}, y[ACC_DIGITS] = {0}, r[ACC_DIGITS] = {0};
    int width = hi - lo + 1;
    bool neg;
    if (a->neg == bb.neg) {
        spread(a, lo, x);
        spread(&bb, lo, y);
        int carry = 0;
        for (int i = 0; i < width; i++) {
            int d = x[i] + y[i] + carry;
            r[i] = (uint8_t)(d % 10);
            carry = d / 10;
        }
        neg = a->neg;
    } else {
        int m = cmp_magnitude(a, &bb);
        if (m == 0) {
            ddb_num_zero(out);
            return DDB_NUM_OK;
        }
        const struct ddb_num *big = m > 0 ? a : &bb, *small = m > 0 ? &bb : a;
        spread(big, lo, x);
        spread(small, lo, y);
        int borrow = 0;
        for (int i = 0; i < width; i++) {
            int d = x[i] - y[i] - borrow;
            borrow = d < 0;
            r[i] = (uint8_t)(d < 0 ? d + 10 : d);
        }
        neg = big->neg;
    }
    int top = width - 1, bot = 0;
    while (top >= 0 && r[top] == 0)
        top--;
    if (top < 0) {
        ddb_num_zero(out);
        return DDB_NUM_OK;
    }
    while (r[bot] == 0)
        bot++;
    int e = top + lo, ndig = top - bot + 1;
    if (e > DDB_NUM_EXP_MAX || ndig > DDB_NUM_DIGITS)
        return DDB_NUM_EOVERFLOW;
    if (e < DDB_NUM_EXP_MIN)
        return DDB_NUM_EUNDERFLOW;
    ddb_num_zero(out);
    out->exp = (int16_t)e;
    out->ndig = (uint8_t)ndig;
    out->neg = neg ? 1 : 0;
    for (int k = 0; k < ndig; k++)
        out->dig[k] = r[top - k];
    return DDB_NUM_OK;
}

enum ddb_num_status ddb_num_add(const struct ddb_num *a, const struct ddb_num *b,
                                struct ddb_num *out)
{
    return add_signed(a, b, false, out);
}

enum ddb_num_status ddb_num_sub(const struct ddb_num *a, const struct ddb_num *b,
                                struct ddb_num *out)
{
    return add_signed(a, b, true, out);
}

/* floor(x / 2) for negative x too. */
static int floor_half(int x)
{
    return x >= 0 ? x / 2 : -((-x + 1) / 2);
}

size_t ddb_num_size(const struct ddb_num *n)
{
    if (n->ndig == 0)
        return 1;
    int lsd = n->exp - n->ndig + 1;
    int pairs = floor_half(n->exp) - floor_half(lsd) + 1;
    return 1 + (size_t)pairs + (n->neg ? 1 : 0);
}

/* Class bytes: every negative < zero < every positive. */
enum { KEY_NEG = 0x40, KEY_ZERO = 0x80, KEY_POS = 0xC0, KEY_NEG_END = 0xFF, KEY_POS_END = 0x00 };

size_t ddb_num_key_encode(const struct ddb_num *n, uint8_t out[DDB_NUM_KEY_MAX])
{
    if (n->ndig == 0) {
        out[0] = KEY_ZERO;
        return 1;
    }
    size_t o = 0;
    uint8_t ebias = (uint8_t)(n->exp - DDB_NUM_EXP_MIN); /* 0..255 */
    out[o++] = n->neg ? KEY_NEG : KEY_POS;
    out[o++] = n->neg ? (uint8_t)(255 - ebias) : ebias;
    for (int k = 0; k < n->ndig; k += 2) {
        int pair = n->dig[k] * 10 + (k + 1 < n->ndig ? n->dig[k + 1] : 0); /* 0..99 */
        out[o++] = n->neg ? (uint8_t)(200 - pair) : (uint8_t)(pair + 1);
    }
    out[o++] = n->neg ? KEY_NEG_END : KEY_POS_END;
    return o;
}

int ddb_num_key_decode(const uint8_t *p, size_t len, struct ddb_num *out, size_t *used)
{
    ddb_num_zero(out);
    if (len < 1)
        return -1;
    if (p[0] == KEY_ZERO) {
        *used = 1;
        return 0;
    }
    if ((p[0] != KEY_NEG && p[0] != KEY_POS) || len < 4)
        return -1;
    bool neg = p[0] == KEY_NEG;
    int ebias = neg ? 255 - p[1] : p[1];
    size_t i = 2;
    int nd = 0;
    uint8_t end = neg ? KEY_NEG_END : KEY_POS_END;
    while (i < len && p[i] != end) {
        int pair = neg ? 200 - p[i] : p[i] - 1;
        if (pair < 0 || pair > 99 || nd + 2 > DDB_NUM_DIGITS)
            return -1;
        out->dig[nd++] = (uint8_t)(pair / 10);
        out->dig[nd++] = (uint8_t)(pair % 10);
        i++;
    }
    if (i >= len || nd == 0)
        return -1;
    if (out->dig[nd - 1] == 0)
        nd--; /* the pad digit of an odd count */
    if (out->dig[0] == 0 || out->dig[nd - 1] == 0)
        return -1;
    out->ndig = (uint8_t)nd;
    out->exp = (int16_t)(ebias + DDB_NUM_EXP_MIN);
    out->neg = neg;
    *used = i + 1;
    return 0;
}
