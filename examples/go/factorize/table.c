// table.c: the quack.h table of the Go factorize plugin. cgo cannot put Go functions into a C
// struct itself, so this file (compiled with the package) points the table at small C functions
// that call the Go functions exported from factorize.go.
#include <stdint.h>

#include "quack.h"
#include "_cgo_export.h"

static quack_status describe(char **out) { return quackDescribe(out); }

static quack_status methods(char **out) { return quackMethods(out); }

static quack_status new_instance(const char *config, size_t config_len, quack_instance **instance,
                                 char **error) {
    uintptr_t handle = 0;
    quack_status status = quackNew((char *)config, config_len, &handle, error);
    *instance = (quack_instance *)handle;
    return status;
}

static quack_status call(quack_instance *instance, const char *method, const char *input,
                         size_t input_len, char **out) {
    return quackCall((uintptr_t)instance, (char *)method, (char *)input, input_len, out);
}

static void free_text(char *text) { quackFree(text); }

static void drop_instance(quack_instance *instance) { quackDrop((uintptr_t)instance); }

static const quack_plugin table = {
    QUACK_ABI_MAJOR, QUACK_ABI_MINOR, describe, methods, new_instance, call, free_text, drop_instance,
};

const quack_plugin *quack_plugin_v1(void) { return &table; }
