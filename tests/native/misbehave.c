/*
 * misbehave.c: a hostile C-ABI plugin for the tests. Its `run` takes the name of a misdeed as a
 * JSON string ("segfault", "null", "garbage", ...) and commits it; a number is returned as is.
 * Compiled with one of the -D switches below, its table itself misbehaves:
 *   -DMAJOR_PLUS_ONE  declares C ABI major QUACK_ABI_MAJOR + 1
 *   -DMINOR_PLUS_ONE  declares C ABI minor QUACK_ABI_MINOR + 1, with one more field at the end
 *                     of its table, as a plugin built with a later quack.h of this major does
 *   -DNULL_TABLE      quack_plugin_v1 returns NULL
 *   -DNULL_CALL       the table's `call` is NULL
 *   -DBAD_DESCRIBE    describe returns text that is not JSON
 *   -DNULL_DESCRIBE   describe returns QUACK_OK and no text
 *   -DBAD_METHODS     methods returns JSON that is not a list of signatures
 *   -DREFUSE_CONFIG   new_instance refuses every configuration
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quack.h"

static int is(const char *input, size_t len, const char *name) {
    size_t n = strlen(name);
    return len == n + 2 && input[0] == '"' && memcmp(input + 1, name, n) == 0 && input[n + 1] == '"';
}

static char *copy(const char *text) { return strdup(text); }

static quack_status describe(char **out) {
#if defined(BAD_DESCRIBE)
    *out = copy("{\"name\": \"c-misbehave\", oops");
    return QUACK_OK;
#elif defined(NULL_DESCRIBE)
    *out = NULL;
    return QUACK_OK;
#else
    *out = copy("{\"name\": \"c-misbehave\", \"version\": \"0.1.0\","
                " \"summary\": \"A C plugin whose tasks misbehave on purpose\","
                " \"hint\": \"cpu\", \"default_input\": [1, 2]}");
    return QUACK_OK;
#endif
}

static quack_status methods(char **out) {
#if defined(BAD_METHODS)
    *out = copy("{\"run\": \"any\"}");
#else
    *out = copy("[{\"name\": \"run\", \"params\": [\"any\"], \"result\": \"any\"}]");
#endif
    return QUACK_OK;
}

static quack_status new_instance(const char *config, size_t config_len, quack_instance **instance,
                                 char **error) {
    (void)config;
    (void)config_len;
#if defined(REFUSE_CONFIG)
    *error = copy("c-misbehave refuses every configuration");
    return QUACK_INVALID_INPUT;
#else
    (void)error;
    *instance = NULL;
    return QUACK_OK;
#endif
}

/* Unused when the table's `call` is NULL instead. */
__attribute__((unused)) static quack_status call(quack_instance *instance, const char *method,
                                                 const char *input, size_t len, char **out) {
    (void)instance;
    if (strcmp(method, "run") != 0) {
        *out = NULL;
        return QUACK_UNKNOWN_METHOD;
    }
    if (is(input, len, "segfault")) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
    if (is(input, len, "abort")) abort();
    if (is(input, len, "sleep")) {
        sleep(60);
    }
    if (is(input, len, "null")) {
        *out = NULL;
        return QUACK_OK;
    }
    if (is(input, len, "garbage")) {
        *out = copy("{this is not json");
        return QUACK_OK;
    }
    if (is(input, len, "not-utf8")) {
        *out = copy("\"caf\xe9\"");
        return QUACK_OK;
    }
    if (is(input, len, "bad-status")) {
        *out = copy("what status is this");
        return 42;
    }
    if (is(input, len, "error-without-message")) {
        *out = NULL;
        return QUACK_FAILED;
    }
    if (is(input, len, "fail")) {
        *out = copy("the task failed as asked");
        return QUACK_FAILED;
    }
    if (is(input, len, "huge")) {
        /* A JSON string of 16 MiB. */
        size_t size = (size_t)16 << 20;
        char *text = malloc(size + 3);
        if (!text) return QUACK_FAILED;
        text[0] = '"';
        memset(text + 1, 'x', size);
        text[size + 1] = '"';
        text[size + 2] = '\0';
        *out = text;
        return QUACK_OK;
    }
    /* Anything else comes back as it is. */
    char *echo = malloc(len + 1);
    if (!echo) return QUACK_FAILED;
    memcpy(echo, input, len);
    echo[len] = '\0';
    *out = echo;
    return QUACK_OK;
}

static void free_text(char *text) { free(text); }

static void drop_instance(quack_instance *instance) { (void)instance; }

/* A later minor's table: this one's fields, then one more. */
struct later_table {
    quack_plugin first;
    void (*added_later)(void);
};

static void added_later(void) {}

/* Unused when quack_plugin_v1 returns NULL instead. */
__attribute__((unused)) static const struct later_table tables = {{
#if defined(MAJOR_PLUS_ONE)
    QUACK_ABI_MAJOR + 1,
#else
    QUACK_ABI_MAJOR,
#endif
#if defined(MINOR_PLUS_ONE)
    QUACK_ABI_MINOR + 1,
#else
    QUACK_ABI_MINOR,
#endif
    describe,
    methods,
    new_instance,
#if defined(NULL_CALL)
    NULL,
#else
    call,
#endif
    free_text,
    drop_instance,
}, added_later};

const quack_plugin *quack_plugin_v1(void) {
#if defined(NULL_TABLE)
    return NULL;
#else
    return &tables.first;
#endif
}
