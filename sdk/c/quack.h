/*
 * quack.h: the C ABI of Quack plugins, version 1.0.
 *
 * A Quack plugin written in C, C++, Go or any language that can export C functions is a shared
 * library with one exported function, quack_plugin_v1, which returns a pointer to a constant
 * table (struct quack_plugin). Everything else goes through that table. Values cross as JSON
 * text, UTF-8, in both directions: the configuration, each method's argument and result, the
 * description and the list of methods. The host (`host run`, `host inspect`, ...) finds the
 * symbol, checks the table's ABI version and from then on treats the plugin exactly as a plugin
 * written in Rust: the same interfaces, modes, reports and errors.
 *
 * Build a plugin with, for example:
 *
 *     cc -O2 -shared -fPIC -I sdk/c -o libmyplugin.so myplugin.c
 *
 * Status codes. Every function of the table that can fail returns a quack_status: QUACK_OK, or
 * the kind of failure (the same kinds a Rust plugin reports). On QUACK_OK the function's output
 * (*out) is its JSON result; on any other status *out is an error message for the user (plain
 * UTF-8 text, one sentence, no JSON) or NULL.
 *
 * Ownership. Every string the host passes in (config, method, input) belongs to the host, is
 * NUL-terminated, also comes with its length in bytes, and is valid only during that call: copy
 * what you keep. Every string the plugin writes to an out pointer is the plugin's own allocation
 * (from any allocator it likes), NUL-terminated; the host reads it, then hands it back exactly
 * once through the table's free_text, possibly from another thread. The instance pointer is the
 * plugin's; the host never looks behind it and hands it back to drop_instance at most once.
 *
 * Threads. describe and methods may be called from any thread, at any time. A process may hold
 * many instances at once (one per worker thread), each used from one thread at a time but not
 * always the same one: never two calls on one instance at once. State shared between instances
 * (globals) must be safe to use from several threads.
 *
 * Instance lifetime. new_instance is called once per worker (each thread in thread mode, each
 * worker process in process mode, once in inline mode); drop_instance when the worker is done.
 * It may never be called: a worker process that ends, or a thread abandoned at a time limit,
 * does not call it.
 *
 * Errors and crashes. A function must return, never unwind into the host: catch C++ exceptions
 * and recover Go panics at the boundary and return them as QUACK_FAILED or QUACK_PANICKED. A
 * plugin that crashes (a segmentation fault, abort()) takes its process with it: in process mode
 * that costs only the task it was running, in thread and inline mode the whole run. The host
 * checks everything the plugin returns: a NULL where text was due, text that is not UTF-8, JSON
 * that is not valid, an undefined status: each is reported as one sentence naming the plugin and
 * the function, never undefined behaviour the host can avoid.
 *
 * Versions. QUACK_ABI_MAJOR changes only when the table changes incompatibly; a host loads every
 * plugin of its own major, of any minor: a later minor may add fields at the end of the table,
 * which the host reads only from plugins that declare that minor or a later one. A plugin of
 * another major is refused with one sentence naming both versions (exit code 6).
 */
#ifndef QUACK_H
#define QUACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; a plugin puts these two in its table. */
#define QUACK_ABI_MAJOR 1
#define QUACK_ABI_MINOR 0

/* The one symbol a plugin exports. */
#define QUACK_PLUGIN_SYMBOL "quack_plugin_v1"

/* What a function of the table returns. */
typedef int32_t quack_status;

/* Success: *out holds the JSON result. */
#define QUACK_OK 0
/* The input (or the configuration) is not what the method takes: *out says why. */
#define QUACK_INVALID_INPUT 1
/* The method ran and failed: *out says why. */
#define QUACK_FAILED 2
/* The plugin's code panicked or threw, and the boundary caught it: *out says what. */
#define QUACK_PANICKED 3
/* No method of that name: *out may be NULL, the host names the method itself. */
#define QUACK_UNKNOWN_METHOD 4

/* One instance of the plugin, defined by the plugin (a struct of its own, or nothing at all:
 * NULL is a valid instance for a plugin without state). */
typedef struct quack_instance quack_instance;

/* The table quack_plugin_v1 returns. It must stay valid, unchanged, while the library is loaded
 * (a static const struct is the usual way). No function pointer may be NULL. */
typedef struct quack_plugin {
    /* QUACK_ABI_MAJOR and QUACK_ABI_MINOR of the quack.h the plugin was built with. */
    uint32_t abi_major;
    uint32_t abi_minor;

    /* The plugin's description, a JSON object:
     *   {"name": "factorize", "version": "1.0.0",          required
     *    "summary": "one line on what it does",             optional, as every field below
     *    "hint": "cpu" or "io",                             how its tasks spend their time
     *    "isolate": true,                                   run it in worker processes only
     *    "runtime": "Go 1.19",                              see below
     *    "default_input": [task, ...],                      tasks run when the user gives none
     *    "examples": [{"method": "run", "input": 12,        shown by host inspect
     *                  "expected": {"Ok": [1, 2, 3, 4, 6, 12]}},
     *                 {"method": "run", "input": 0, "expected": {"Err": "fragment of the error"},
     *                  "config": {"method": "sqrt"}}]}
     * "runtime" names a language runtime the plugin starts in every process that loads it (a Go
     * runtime, with its own threads and signal handlers, that a fatal Go error ends whole). The
     * host then gives the plugin worker processes of its own when it chooses the mode itself, and
     * says why; --mode inline and thread still run it in the host when asked. */
    quack_status (*describe)(char **out);

    /* The methods instances answer to, a JSON array of signatures:
     *   [{"name": "run", "params": ["u64"], "result": "[u64]"},
     *    {"name": "name", "params": [], "result": "string"}]
     * Shapes are those of the Rust SDK: u8..u64, i8..i64, f32, f64, bool, string, null, any,
     * [T] (an array), T? (optional), {string: T} (a map), (A, B) (a tuple), or a name of the
     * plugin's own (such as Task). Interfaces are found from these: a plugin with
     * run(T) -> R is a Workload; with split(T) -> [T] and merge([R]) -> R as well it is
     * Splittable (one task is cut into parts across workers); with name() -> string and
     * sound() -> string it is an Animal. */
    quack_status (*methods)(char **out);

    /* Makes one instance from the configuration, a JSON object ({} when none is given; --set
     * key=value and --config add to it). On QUACK_OK, *instance is the new instance; otherwise
     * *error is the message (QUACK_INVALID_INPUT for a configuration the plugin refuses). */
    quack_status (*new_instance)(const char *config, size_t config_len, quack_instance **instance,
                                 char **error);

    /* Calls `method` on `instance` with its argument as JSON (`null` for a method without one).
     * On QUACK_OK, *out is the result as JSON; otherwise *out is the error message. */
    quack_status (*call)(quack_instance *instance, const char *method, const char *input,
                         size_t input_len, char **out);

    /* Frees a string the plugin wrote to an out pointer. Called once per string. */
    void (*free_text)(char *text);

    /* Ends an instance made by new_instance. */
    void (*drop_instance)(quack_instance *instance);
} quack_plugin;

/* The plugin's one exported function: returns its table (never NULL). */
const quack_plugin *quack_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* QUACK_H */
