/*
 * factorize.c: a Quack plugin in C. It lists every divisor of n by trying each i in 1..=n (the
 * seed's deliberately naive CPU workload, the same loop as the Rust plugin `factorize`), and it
 * is Splittable: `split` cuts one large number into ranges of candidates and `merge` joins the
 * ranges' divisors, so the host spreads one big number over its workers.
 *
 * Build:  cc -O2 -shared -fPIC -I sdk/c -o libc_factorize.so examples/c/factorize.c
 * Run:    host run libc_factorize.so
 *
 * A task is a number (12) or a part of one ({"n": 12, "from": 1, "to": 6}); the result is the
 * divisors in ascending order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quack.h"

/* A task whose range has more candidates than this is refused (about 10 s of work). */
#define NAIVE_LIMIT 10000000000ULL
/* `split` cuts a number into parts of at most this many candidates (about 2 ms each). */
#define PART_SIZE 1000000ULL

/* ---- Text the plugin hands to the host: malloc'd, freed by free_text. ---- */

/* A growable string. */
typedef struct {
    char *text;
    size_t len, cap;
    bool failed; /* out of memory */
} buffer;

static void append(buffer *b, const char *text, size_t len) {
    if (b->failed) return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + len + 1) cap *= 2;
        char *grown = realloc(b->text, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, text, len);
    b->len += len;
    b->text[b->len] = '\0';
}

static void append_str(buffer *b, const char *text) { append(b, text, strlen(text)); }

static void append_u64(buffer *b, uint64_t value) {
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)value);
    append(b, digits, (size_t)len);
}

/* Hands the buffer's text to the host as *out: QUACK_OK, or QUACK_FAILED when memory ran out. */
static quack_status give(buffer *b, char **out) {
    if (b->failed || !b->text) {
        free(b->text);
        *out = NULL;
        return QUACK_FAILED;
    }
    *out = b->text;
    return QUACK_OK;
}

/* An error message for the host, printf-style, with its status. */
static quack_status fail(quack_status status, char **out, const char *format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    *out = strdup(message);
    return status;
}

/* ---- Reading JSON input: just what the tasks need. ---- */

typedef struct {
    const char *at, *end;
} cursor;

static void skip_space(cursor *c) {
    while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r'))
        c->at++;
}

static bool eat(cursor *c, char expected) {
    skip_space(c);
    if (c->at < c->end && *c->at == expected) {
        c->at++;
        return true;
    }
    return false;
}

/* Reads a whole number of at most 64 bits. On failure, *why is a phrase for "the number is ...". */
static bool read_u64(cursor *c, uint64_t *value, const char **why) {
    skip_space(c);
    if (c->at >= c->end) {
        *why = "missing";
        return false;
    }
    char first = *c->at;
    if (first == '-') {
        *why = "negative";
        return false;
    }
    if (first < '0' || first > '9') {
        *why = first == '"' ? "a string, not a number"
               : first == 'n' ? "missing (null)"
               : (first == 't' || first == 'f') ? "a boolean, not a number"
                                                : "not a number";
        return false;
    }
    uint64_t n = 0;
    while (c->at < c->end && *c->at >= '0' && *c->at <= '9') {
        unsigned digit = (unsigned)(*c->at - '0');
        if (n > (UINT64_MAX - digit) / 10) {
            *why = "beyond the largest supported number (2^64 - 1)";
            return false;
        }
        n = n * 10 + digit;
        c->at++;
    }
    if (c->at < c->end && (*c->at == '.' || *c->at == 'e' || *c->at == 'E')) {
        *why = "not a whole number";
        return false;
    }
    *value = n;
    return true;
}

/* A task: the divisors of n among the candidates from..to. */
typedef struct {
    uint64_t n, from, to;
    bool part; /* given as {"n", "from", "to"} rather than as a number */
} task;

/* Reads a task; on failure writes the error to *out and returns its status. */
static quack_status read_task(cursor *c, task *t, char **out) {
    const char *why;
    skip_space(c);
    if (c->at < c->end && *c->at == '{') {
        c->at++;
        bool seen[3] = {false, false, false};
        uint64_t values[3] = {0, 0, 0};
        static const char *names[3] = {"n", "from", "to"};
        if (!eat(c, '}')) {
            do {
                skip_space(c);
                int which = -1;
                for (int k = 0; k < 3; k++) {
                    size_t len = strlen(names[k]);
                    if ((size_t)(c->end - c->at) >= len + 2 && c->at[0] == '"' &&
                        memcmp(c->at + 1, names[k], len) == 0 && c->at[len + 1] == '"') {
                        which = k;
                        c->at += len + 2;
                        break;
                    }
                }
                if (which < 0)
                    return fail(QUACK_INVALID_INPUT, out,
                                "a part is {\"n\": N, \"from\": A, \"to\": B} and nothing else");
                if (!eat(c, ':')) return fail(QUACK_INVALID_INPUT, out, "the task is not valid JSON");
                if (!read_u64(c, &values[which], &why))
                    return fail(QUACK_INVALID_INPUT, out, "the part's `%s` is %s", names[which], why);
                seen[which] = true;
            } while (eat(c, ','));
            if (!eat(c, '}')) return fail(QUACK_INVALID_INPUT, out, "the task is not valid JSON");
        }
        for (int k = 0; k < 3; k++)
            if (!seen[k]) return fail(QUACK_INVALID_INPUT, out, "the part has no `%s`", names[k]);
        t->n = values[0];
        t->from = values[1];
        t->to = values[2];
        t->part = true;
        if (!(1 <= t->from && t->from <= t->to && t->to <= t->n))
            return fail(QUACK_INVALID_INPUT, out,
                        "the part from %llu to %llu of %llu is not a range of candidate divisors: "
                        "it needs 1 <= from <= to <= n",
                        (unsigned long long)t->from, (unsigned long long)t->to,
                        (unsigned long long)t->n);
        return QUACK_OK;
    }
    if (!read_u64(c, &t->n, &why)) return fail(QUACK_INVALID_INPUT, out, "the number is %s", why);
    if (t->n == 0)
        return fail(QUACK_INVALID_INPUT, out,
                    "the number is 0, which every number divides: give 1 or more");
    t->from = 1;
    t->to = t->n;
    t->part = false;
    return QUACK_OK;
}

/* ---- The work. ---- */

/* Every i in from..=to that divides n, ascending, as a JSON array. The loop is the Rust
 * plugin's: a half-open range, then `to` on its own. A number that fits in 32 bits is divided
 * in 32 bits, as the Rust compiler does by itself (a 64-bit division costs about 20% more). */
static void naive_divisors(uint64_t n, uint64_t from, uint64_t to, buffer *b) {
    bool first = true;
    append_str(b, "[");
#define FOUND(i)                          \
    do {                                  \
        if (!first) append_str(b, ", ");  \
        append_u64(b, (i));               \
        first = false;                    \
    } while (0)
    if (n <= UINT32_MAX) {
        uint32_t n32 = (uint32_t)n, to32 = (uint32_t)to;
        for (uint32_t i = (uint32_t)from; i < to32; i++)
            if (n32 % i == 0) FOUND(i);
    } else {
        for (uint64_t i = from; i < to; i++)
            if (n % i == 0) FOUND(i);
    }
    if (n % to == 0) FOUND(to);
#undef FOUND
    append_str(b, "]");
}

static quack_status run(cursor *c, char **out) {
    task t;
    quack_status status = read_task(c, &t, out);
    if (status != QUACK_OK) return status;
    if (t.to - t.from >= NAIVE_LIMIT)
        return fail(QUACK_FAILED, out,
                    "%llu is too large for the naive method (at most %llu candidates)",
                    (unsigned long long)t.n, (unsigned long long)NAIVE_LIMIT);
    buffer b = {0};
    naive_divisors(t.n, t.from, t.to, &b);
    return give(&b, out);
}

static void append_part(buffer *b, uint64_t n, uint64_t from, uint64_t to) {
    append_str(b, "{\"n\": ");
    append_u64(b, n);
    append_str(b, ", \"from\": ");
    append_u64(b, from);
    append_str(b, ", \"to\": ");
    append_u64(b, to);
    append_str(b, "}");
}

/* Cuts a whole number into near-equal parts of at most PART_SIZE candidates; anything else (a
 * small number, a part, a number too large to run) is its own only part. */
static quack_status split(cursor *c, char **out) {
    task t;
    quack_status status = read_task(c, &t, out);
    if (status != QUACK_OK) return status;
    buffer b = {0};
    append_str(&b, "[");
    if (t.part) {
        append_part(&b, t.n, t.from, t.to);
    } else if (t.n <= PART_SIZE || t.n > NAIVE_LIMIT) {
        append_u64(&b, t.n);
    } else {
        uint64_t count = (t.n + PART_SIZE - 1) / PART_SIZE;
        uint64_t size = (t.n + count - 1) / count;
        for (uint64_t index = 0; index < count; index++) {
            if (index) append_str(&b, ", ");
            uint64_t to = (index + 1) * size;
            append_part(&b, t.n, index * size + 1, to < t.n ? to : t.n);
        }
    }
    append_str(&b, "]");
    return give(&b, out);
}

static int ascending(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Joins the parts' divisor lists ([[1, 2], [4]]) into one ascending list without repeats. */
static quack_status merge(cursor *c, char **out) {
    size_t len = 0, cap = 64;
    uint64_t *all = malloc(cap * sizeof *all);
    if (!all) return fail(QUACK_FAILED, out, "out of memory");
    const char *why;
    bool valid = eat(c, '[');
    if (valid && !eat(c, ']')) {
        do {
            if (!(valid = eat(c, '['))) break;
            if (eat(c, ']')) continue;
            do {
                uint64_t value;
                if (!(valid = read_u64(c, &value, &why))) break;
                if (len == cap) {
                    uint64_t *grown = realloc(all, 2 * cap * sizeof *all);
                    if (!grown) {
                        free(all);
                        return fail(QUACK_FAILED, out, "out of memory");
                    }
                    all = grown;
                    cap *= 2;
                }
                all[len++] = value;
            } while (eat(c, ','));
            if (!valid || !(valid = eat(c, ']'))) break;
        } while (eat(c, ','));
        valid = valid && eat(c, ']');
    }
    if (!valid) {
        free(all);
        return fail(QUACK_INVALID_INPUT, out, "merge takes a list of lists of divisors, [[u64]]");
    }
    qsort(all, len, sizeof *all, ascending);
    buffer b = {0};
    append_str(&b, "[");
    for (size_t k = 0; k < len; k++) {
        if (k && all[k] == all[k - 1]) continue;
        if (b.len > 1) append_str(&b, ", ");
        append_u64(&b, all[k]);
    }
    append_str(&b, "]");
    free(all);
    return give(&b, out);
}

/* ---- The table. ---- */

static quack_status describe(char **out) {
    *out = strdup(
        "{\"name\": \"c-factorize\", \"version\": \"1.0.0\","
        " \"summary\": \"Lists every divisor of n by trying each i in 1..=n, in C (a CPU workload)\","
        " \"hint\": \"cpu\","
        " \"default_input\": [53541233, 21235343, 11421443, 5423123],"
        " \"examples\": ["
        "  {\"method\": \"run\", \"input\": 12, \"expected\": {\"Ok\": [1, 2, 3, 4, 6, 12]}},"
        "  {\"method\": \"run\", \"input\": 53541233, \"expected\": {\"Ok\": [1, 5501, 9733, 53541233]}},"
        "  {\"method\": \"run\", \"input\": {\"n\": 53541233, \"from\": 1, \"to\": 10000},"
        "   \"expected\": {\"Ok\": [1, 5501, 9733]}},"
        "  {\"method\": \"run\", \"input\": 0, \"expected\": {\"Err\": \"the number is 0\"}},"
        "  {\"method\": \"split\", \"input\": 2000000, \"expected\": {\"Ok\": ["
        "   {\"n\": 2000000, \"from\": 1, \"to\": 1000000}, {\"n\": 2000000, \"from\": 1000001, \"to\": 2000000}]}},"
        "  {\"method\": \"merge\", \"input\": [[1, 2, 4], [4, 8]], \"expected\": {\"Ok\": [1, 2, 4, 8]}}"
        " ]}");
    return *out ? QUACK_OK : QUACK_FAILED;
}

static quack_status methods(char **out) {
    *out = strdup("[{\"name\": \"run\", \"params\": [\"Task\"], \"result\": \"[u64]\"},"
                  " {\"name\": \"split\", \"params\": [\"Task\"], \"result\": \"[Task]\"},"
                  " {\"name\": \"merge\", \"params\": [\"[[u64]]\"], \"result\": \"[u64]\"}]");
    return *out ? QUACK_OK : QUACK_FAILED;
}

/* The plugin has no state: its instance is NULL. The only configuration it takes is the one
 * method it has, {"method": "naive"}. */
static quack_status new_instance(const char *config, size_t config_len, quack_instance **instance,
                                 char **error) {
    cursor c = {config, config + config_len};
    bool valid = eat(&c, '{');
    if (valid && !eat(&c, '}')) {
        static const char key[] = "\"method\"", naive[] = "\"naive\"";
        skip_space(&c);
        valid = (size_t)(c.end - c.at) >= sizeof key - 1 && memcmp(c.at, key, sizeof key - 1) == 0;
        if (valid) c.at += sizeof key - 1;
        valid = valid && eat(&c, ':');
        skip_space(&c);
        valid = valid && (size_t)(c.end - c.at) >= sizeof naive - 1 &&
                memcmp(c.at, naive, sizeof naive - 1) == 0;
        if (valid) c.at += sizeof naive - 1;
        valid = valid && eat(&c, '}');
    }
    if (!valid)
        return fail(QUACK_INVALID_INPUT, error,
                    "c-factorize takes no configuration but {\"method\": \"naive\"}, got %.200s",
                    config);
    *instance = NULL;
    return QUACK_OK;
}

static quack_status call(quack_instance *instance, const char *method, const char *input,
                         size_t input_len, char **out) {
    (void)instance;
    cursor c = {input, input + input_len};
    if (strcmp(method, "run") == 0) return run(&c, out);
    if (strcmp(method, "split") == 0) return split(&c, out);
    if (strcmp(method, "merge") == 0) return merge(&c, out);
    *out = NULL;
    return QUACK_UNKNOWN_METHOD;
}

static void free_text(char *text) { free(text); }

static void drop_instance(quack_instance *instance) { (void)instance; }

static const quack_plugin table = {
    QUACK_ABI_MAJOR, QUACK_ABI_MINOR, describe, methods, new_instance, call, free_text, drop_instance,
};

const quack_plugin *quack_plugin_v1(void) { return &table; }
