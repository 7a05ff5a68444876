/*
 * kindmps.h - the C ABI of libkindmps (kindmps-api as a library).
 *
 * Plain C99. Link with -lkindmps (pkg-config: kindmps; CMake: find_package(kindmps),
 * target kindmps::kindmps).
 *
 * CONVENTIONS (every function follows them unless its comment says otherwise)
 *
 *  Return codes. Functions that can fail return int, mirroring the kindmps-api CLI's exit codes:
 *    KMPS_OK              0  success
 *    KMPS_ERR_FAILED      1  the operation failed, or the cluster is unhealthy
 *    KMPS_ERR_INVALID     2  invalid argument: a NULL where a value is required, bad JSON/options
 *    KMPS_ERR_ENVIRONMENT 3  something outside is missing: Docker daemon unreachable, socket
 *                            permission, kind binary, NVIDIA driver files
 *  No other value is ever returned. kmps_last_error_kind() tells the finer reason.
 *
 *  Errors. Each failing call stores one line of text (naming the argument, container, socket or
 *  file at fault) and an error kind for the calling thread: kmps_last_error() and
 *  kmps_last_error_kind(). Every function that returns an int code first clears them, so after a
 *  successful call kmps_last_error() is "" and kmps_last_error_kind() is KMPS_ERROR_NONE.
 *  No C++ exception ever leaves the library: an unexpected one becomes KMPS_ERR_FAILED with kind
 *  KMPS_ERROR_INTERNAL. Passing NULL where a value is required is KMPS_ERR_INVALID, never a
 *  crash.
 *
 *  Ownership. Results come out through `out` pointers (the last parameters). An `out` pointer is
 *  set to NULL on entry, and to an allocated value only when the function documents it (always on
 *  KMPS_OK; some functions also set it on a failure, see kmps_host_inspect, kmps_cluster_status,
 *  kmps_cluster_up). Strings and buffers handed out are the caller's and are freed with kmps_free().
 *  Handles are freed with their own kmps_<type>_free(). Every free function accepts NULL.
 *  The library never keeps a pointer passed in after the call returns.
 *
 *  Strings are UTF-8, NUL-terminated. JSON documents have the same schemas as the CLI's --json
 *  output (docs/c-api.md).
 *
 *  Threads. The library may be used from many threads at once. A kmps_client handle is NOT
 *  thread-safe: use one handle per thread, or serialize the calls on a handle yourself; different
 *  handles may be used concurrently. Functions without a handle are thread-safe. The last error
 *  is per thread.
 *
 *  ABI. The library's SONAME is libkindmps.so.0; symbols carry the version node KINDMPS_0. Only
 *  kmps_-prefixed symbols are exported. Structures defined here only grow at their end, and the
 *  library never reads a structure the caller allocated.
 *
 *  Names are kmps_<module>_<verb> (kmps_client_exec, kmps_cluster_up). The first names of the
 *  cluster functions (kmps_status, kmps_up, kmps_down) stay exported, in KINDMPS_0, as aliases of
 *  the same functions: programs built against them keep working. They are declared at the end of
 *  this header, deprecated (a compiler warning points to the new name).
 */
#ifndef KINDMPS_H
#define KINDMPS_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define KMPS_API __attribute__((visibility("default")))
#define KMPS_DEPRECATED(message) __attribute__((deprecated(message)))
#else
#define KMPS_API
#define KMPS_DEPRECATED(message)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Return codes and errors
 * ------------------------------------------------------------------------------------------- */

#define KMPS_OK 0
#define KMPS_ERR_FAILED 1
#define KMPS_ERR_INVALID 2
#define KMPS_ERR_ENVIRONMENT 3

/* The finer reason of the calling thread's last failure. Values are stable; new ones are only
 * added at the end. The code each kind comes with is given in brackets. */
typedef enum kmps_error_kind {
  KMPS_ERROR_NONE = 0,          /* no error                                              [0] */
  KMPS_ERROR_INVALID_ARGUMENT,  /* NULL argument, bad JSON, invalid options              [2] */
  KMPS_ERROR_NOT_FOUND,         /* container, exec, node, file or command not found      [1] */
  KMPS_ERROR_CONFLICT,          /* container not running or paused, name in use          [1] */
  KMPS_ERROR_BAD_REQUEST,       /* the Docker daemon rejected the request (HTTP 400)     [1] */
  KMPS_ERROR_SERVER,            /* the Docker daemon failed (HTTP 5xx)                   [1] */
  KMPS_ERROR_UNAVAILABLE,       /* Docker daemon unreachable (no socket, no listener)    [3] */
  KMPS_ERROR_PERMISSION,        /* the Docker socket is not accessible                   [3] */
  KMPS_ERROR_TIMEOUT,           /* an external call ran past its deadline                [1] */
  KMPS_ERROR_PROTOCOL,          /* malformed HTTP, truncated stream, bad JSON from Docker [1] */
  KMPS_ERROR_ENVIRONMENT,       /* kind binary or NVIDIA driver files missing            [3] */
  KMPS_ERROR_FAILED,            /* the operation failed, the cluster is unhealthy        [1] */
  KMPS_ERROR_CANCELLED,         /* interrupted                                           [1] */
  KMPS_ERROR_INTERNAL           /* a bug: an unexpected exception or allocation failure  [1] */
} kmps_error_kind;

/* The last error's text for the calling thread: one line, "" when the last call succeeded.
 * Never NULL. The pointer stays valid until the calling thread's next kmps_ call that returns an
 * int; copy it to keep it. Thread-safe (per thread). Does not change the last error. */
KMPS_API const char* kmps_last_error(void);

/* The last error's kind (a kmps_error_kind value) for the calling thread. Thread-safe. */
KMPS_API int kmps_last_error_kind(void);

/* A constant name for an error kind ("not found", ...); "unknown" for unknown values. Never NULL,
 * never to be freed. Thread-safe. */
KMPS_API const char* kmps_error_kind_name(int kind);

/* ---------------------------------------------------------------------------------------------
 * Library
 * ------------------------------------------------------------------------------------------- */

/* The library's version, "MAJOR.MINOR.PATCH" (e.g. "0.1.0"). A constant: never NULL, never to
 * be freed. Thread-safe. */
KMPS_API const char* kmps_version_string(void);

/* Frees a string or buffer that the library handed out. NULL is accepted and ignored. Passing
 * anything else (a pointer the library did not hand out, or one already freed) is undefined, as
 * with free(3). Thread-safe. */
KMPS_API void kmps_free(void* p);

/* ---------------------------------------------------------------------------------------------
 * Host inspection and kind config (no Docker needed)
 * ------------------------------------------------------------------------------------------- */

/* Inspects the host's NVIDIA driver files, MPS binaries, device nodes and CDI specs under
 * `driver_root` and `dev_root` (NULL or "" means "/"), like `kindmps-api inspect --json`.
 *
 * Returns KMPS_OK with *out_json set to the inventory when everything required was found.
 * When something required is missing, returns KMPS_ERR_ENVIRONMENT (kind
 * KMPS_ERROR_ENVIRONMENT, the text lists every missing item) AND still sets *out_json to the
 * inventory, whose "complete" is false and whose "missing" array names each item.
 * KMPS_ERR_INVALID when out_json is NULL. Free *out_json with kmps_free(). Thread-safe. */
KMPS_API int kmps_host_inspect(const char* driver_root, const char* dev_root, char** out_json);

/* Renders the kind Cluster config (YAML) that passes this host's NVIDIA driver through to the
 * nodes, like `kindmps-api config`.
 *
 * `options_json` is a JSON object with the keys of kindmps.yaml (name, workers, image, gpuNodes,
 * shmSize, mps, driverRoot, devRoot, ...); NULL or "" means all defaults (the name defaults to
 * $KIND_CLUSTER_NAME, else kind). Keys are checked strictly.
 *
 * Returns KMPS_OK with *out_yaml set. KMPS_ERR_INVALID when the options are not valid JSON or not
 * a valid configuration (the text is "<options>:LINE:COLUMN: what was expected") or out_yaml is
 * NULL. KMPS_ERR_ENVIRONMENT when the driver files are missing under driverRoot/devRoot.
 * Free *out_yaml with kmps_free(). Thread-safe. */
KMPS_API int kmps_kind_config(const char* options_json, char** out_yaml);

/* ---------------------------------------------------------------------------------------------
 * Docker client
 * ------------------------------------------------------------------------------------------- */

/* A connection to the Docker Engine API (Unix socket or TCP). Opaque. Not thread-safe: one per
 * thread, or serialize the calls on it. Several handles may be used concurrently. */
typedef struct kmps_client kmps_client;

/* Creates a client for `docker_host_or_null` ("unix:///path" or "tcp://host:port"; NULL or ""
 * means the docker CLI's rules: $DOCKER_HOST, else $DOCKER_CONTEXT or the docker config's current
 * context, else unix:///var/run/docker.sock; kind, which `kmps_cluster_up` runs, is pointed at the
 * same engine). Does not connect: an unreachable
 * daemon shows at the first call (KMPS_ERR_ENVIRONMENT, kind KMPS_ERROR_UNAVAILABLE).
 *
 * Returns KMPS_OK with *out set. KMPS_ERR_INVALID for a NULL `out` or an unsupported or
 * malformed host (ssh://, npipe://, ...). Free the handle with kmps_client_free(). */
KMPS_API int kmps_client_new(kmps_client** out, const char* docker_host_or_null);

/* Frees a client and closes its connection. NULL is accepted. The handle must not be in use by
 * another thread. */
KMPS_API void kmps_client_free(kmps_client* client);

/* Checks that the daemon answers (GET /_ping). KMPS_OK, or KMPS_ERR_ENVIRONMENT when it is
 * unreachable (kind KMPS_ERROR_UNAVAILABLE or KMPS_ERROR_PERMISSION). */
KMPS_API int kmps_client_ping(kmps_client* client);

/* The result of one exec. Both buffers are NUL-terminated for convenience, but may hold NUL bytes:
 * use the lengths. Free with kmps_exec_result_free(). */
typedef struct kmps_exec_result {
  int exit_code;  /* the command's exit status in the container */
  char* out;      /* stdout, out_len bytes (+ a NUL); never NULL */
  size_t out_len;
  char* err;      /* stderr, err_len bytes (+ a NUL); never NULL */
  size_t err_len;
} kmps_exec_result;

/* Frees an exec result and its buffers. NULL is accepted. */
KMPS_API void kmps_exec_result_free(kmps_exec_result* result);

/* Runs `argv` (NULL-terminated, at least one element; no shell) in the running container
 * `container` with the extra environment `env_or_null` (NULL-terminated "KEY=value" strings, or
 * NULL), and captures stdout, stderr (16 MiB each at most) and the exit code. `timeout_ms` <= 0
 * means 60000; past it the call fails with kind KMPS_ERROR_TIMEOUT.
 *
 * A command that ran and exited non-zero is a success: KMPS_OK with *out->exit_code set.
 * Failures: KMPS_ERR_INVALID (NULL or empty arguments), KMPS_ERR_FAILED (no such container:
 * KMPS_ERROR_NOT_FOUND; not running: KMPS_ERROR_CONFLICT; timeout, protocol), and
 * KMPS_ERR_ENVIRONMENT (daemon unreachable). */
KMPS_API int kmps_client_exec(kmps_client* client, const char* container, const char* const* argv,
                              const char* const* env_or_null, int timeout_ms, kmps_exec_result** out);

/* ---------------------------------------------------------------------------------------------
 * Cluster operations (like `kindmps-api status|up|down|mps`)
 *
 * `cluster_or_null` names the kind cluster; NULL or "" means $KIND_CLUSTER_NAME, else
 * kind. status, down and mps use the settings that `up` saved for the cluster (pipe
 * directory, shm size, GPU nodes), as the CLI does.
 * ------------------------------------------------------------------------------------------- */

/* Reads each node's /dev/shm size, MPS control daemon and servers, like
 * `kindmps-api status --json`. KMPS_OK with *out_json set when the cluster is healthy;
 * KMPS_ERR_FAILED (kind KMPS_ERROR_FAILED) with *out_json ALSO set when it is unhealthy or has no
 * nodes ("healthy": false, the problems listed); other failures leave *out_json NULL. */
KMPS_API int kmps_cluster_status(kmps_client* client, const char* cluster_or_null, char** out_json);

/* What a progress event reports. */
typedef enum kmps_progress_kind {
  KMPS_PROGRESS_STEP_STARTED = 0,
  KMPS_PROGRESS_STEP_DONE = 1,
  KMPS_PROGRESS_STEP_FAILED = 2,
  KMPS_PROGRESS_LINE = 3  /* one line of output (kind's, or a node's note) in `detail` */
} kmps_progress_kind;

/* One progress event. The pointers are valid only during the callback. */
typedef struct kmps_progress_event {
  int kind;            /* a kmps_progress_kind */
  int step;            /* 1-based step number; 0 for KMPS_PROGRESS_LINE */
  int total;           /* number of steps */
  const char* title;   /* the step's title; "" for lines; never NULL */
  const char* detail;  /* a result, an error text, or a line; never NULL */
  double elapsed_ms;   /* the step's duration, for STEP_DONE and STEP_FAILED */
} kmps_progress_event;

/* Receives progress. It is called synchronously on the thread that called kmps_cluster_up or
 * kmps_cluster_down, before that call returns, one event at a time (never concurrently). It must
 * not call kmps_ functions with the same client handle; it may call kmps_last_error only after the
 * operation returns. Nothing is called after kmps_cluster_up/kmps_cluster_down returns. */
typedef void (*kmps_progress_fn)(const kmps_progress_event* event, void* user_data);

/* Creates the kind cluster if needed and starts MPS in its GPU nodes, like
 * `kindmps-api up --json`. Can take minutes (kind create cluster).
 *
 * `options_json`: the keys of kindmps.yaml as a JSON object (see kmps_kind_config), plus
 * "kind" (string: the kind binary, name on PATH or a path; default "kind") and "recreate"
 * (bool: delete and recreate an existing cluster; default false). NULL or "" means defaults.
 * `progress` may be NULL; `user_data` is passed to it untouched.
 *
 * KMPS_OK with *out_json set (the status document plus "kindConfig", "created" and "timings", as
 * `up --json` prints) when the cluster ends healthy. KMPS_ERR_FAILED with *out_json ALSO set when
 * the cluster was brought up but the final check found it unhealthy. Other failures
 * (KMPS_ERR_INVALID for bad options, KMPS_ERR_ENVIRONMENT for missing driver files, kind or
 * Docker, KMPS_ERR_FAILED when kind or a node step failed) leave *out_json NULL.
 *
 * While kind runs, it takes over SIGINT, SIGTERM, SIGHUP and SIGQUIT process-wide (a handler
 * with SA_ONSTACK | SA_RESTART; a signal the process ignores stays ignored) and forwards them to
 * kind's process group, restoring the previous dispositions afterwards; a forwarded signal makes
 * the call fail with KMPS_ERR_FAILED, error kind KMPS_ERROR_CANCELLED. */
KMPS_API int kmps_cluster_up(kmps_client* client, const char* options_json, kmps_progress_fn progress,
                             void* user_data, char** out_json);

/* Quits the MPS daemons of every running GPU node, then deletes the kind cluster (unless
 * `keep_cluster` is non-zero), like `kindmps-api down`. `kind_or_null`: the kind binary (NULL or
 * "" means "kind" on PATH); it and the kubeconfig lock are checked before any daemon is stopped.
 * `progress` may be NULL. KMPS_OK, or an error code.
 *
 * While kind runs, it takes over SIGINT, SIGTERM, SIGHUP and SIGQUIT process-wide (a handler
 * with SA_ONSTACK | SA_RESTART; a signal the process ignores stays ignored) and forwards them to
 * kind's process group, restoring the previous dispositions afterwards; a forwarded signal makes
 * the call fail with KMPS_ERR_FAILED, error kind KMPS_ERROR_CANCELLED. */
KMPS_API int kmps_cluster_down(kmps_client* client, const char* cluster_or_null, const char* kind_or_null,
                               int keep_cluster, kmps_progress_fn progress, void* user_data);

/* Sends one command (e.g. "get_server_list", "set_default_active_thread_percentage 50") to the MPS
 * control daemon of node `node_or_null` of the cluster, like `kindmps-api mps`, and returns the
 * daemon's reply in *out_reply. NULL or "" for the node means the cluster's only GPU node
 * (KMPS_ERR_INVALID when it has several, or when the node runs a daemon per GPU, mps.daemons
 * perGpu: kmps_mps_command_all gives each GPU's reply). Errors: KMPS_ERR_INVALID (NULL/empty
 * command, unknown MPS command), KMPS_ERR_FAILED (no such node: KMPS_ERROR_NOT_FOUND; no daemon running;
 * timeout). Free *out_reply with kmps_free(). */
KMPS_API int kmps_mps_command(kmps_client* client, const char* cluster_or_null, const char* node_or_null,
                              const char* command, char** out_reply);

/* Sends one command to the MPS control daemon of every GPU node of the cluster at once, like
 * `kindmps-api mps --all`, and returns one reply per node, in node-name order, as JSON in
 * *out_json: {"replies": [{"node": "...", "ok": true, "reply": "..."} or
 * {"node": "...", "ok": false, "error": "one line", "code": "failed"}]}, "code" being the error
 * kind's name (kmps_error_kind_name: "timeout", "not found", ...). The return code is the
 * first failed node's (its error is the last error), else KMPS_OK; *out_json is set in both
 * cases once the command was sent. Errors before sending: as kmps_mps_command (NULL/empty
 * command, no such cluster state, Docker unreachable, no GPU node). Free *out_json with kmps_free(). */
KMPS_API int kmps_mps_command_all(kmps_client* client, const char* cluster_or_null, const char* command,
                                  char** out_json);

/* ---------------------------------------------------------------------------------------------
 * Deprecated names (libkindmps 0.1.0). Each is the same function as its new name, exported as an
 * alias in KINDMPS_0, so that programs built against it keep working. Use the new names.
 * ------------------------------------------------------------------------------------------- */

/* Deprecated: kmps_cluster_status. */
KMPS_API int kmps_status(kmps_client* client, const char* cluster_or_null, char** out_json)
    KMPS_DEPRECATED("use kmps_cluster_status");

/* Deprecated: kmps_cluster_up (the same function: it takes over the signals the same way). */
KMPS_API int kmps_up(kmps_client* client, const char* options_json, kmps_progress_fn progress,
                     void* user_data, char** out_json) KMPS_DEPRECATED("use kmps_cluster_up");

/* Deprecated: kmps_cluster_down (the same function: it takes over the signals the same way). */
KMPS_API int kmps_down(kmps_client* client, const char* cluster_or_null, const char* kind_or_null,
                       int keep_cluster, kmps_progress_fn progress, void* user_data)
    KMPS_DEPRECATED("use kmps_cluster_down");

#ifdef __cplusplus
}
#endif

#endif /* KINDMPS_H */
