/* The C ABI seen from a C99 program: built in the build tree against the kindmps target, and by
 * tests/capi/install_consumers.sh against the installed library (pkg-config and find_package).
 *
 * Docker: the tests that need the engine skip (exit status unchanged) when it is unreachable,
 * unless KMPS_REQUIRE_DOCKER=1, then they fail. */
#define _POSIX_C_SOURCE 200809L

#include <kindmps.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                                   \
  do {                                                                                                \
    ++checks;                                                                                         \
    if (!(cond)) {                                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: [%s] %s)\n", __FILE__, __LINE__, #cond, \
              kmps_error_kind_name(kmps_last_error_kind()), kmps_last_error());                       \
      ++failures;                                                                                     \
    }                                                                                                 \
  } while (0)

#define CHECK_CONTAINS(text, needle) CHECK((text) != NULL && strstr((text), (needle)) != NULL)

static const char* kMissingSocket = "unix:///nonexistent-kmps-capi/docker.sock";

static void test_version(void) {
  const char* v = kmps_version_string();
  const char* expected = getenv("KMPS_EXPECTED_VERSION");
  int major = -1, minor = -1, patch = -1;
  CHECK(v != NULL);
  CHECK(sscanf(v, "%d.%d.%d", &major, &minor, &patch) == 3);
  CHECK(major >= 0 && minor >= 0 && patch >= 0);
  if (expected != NULL && *expected != '\0') CHECK(strcmp(v, expected) == 0);
}

static void test_null_arguments(void) {
  char* text = (char*)1;
  kmps_client* client = (kmps_client*)1;
  kmps_exec_result* result = (kmps_exec_result*)1;
  const char* argv[] = {"true", NULL};

  CHECK(kmps_host_inspect(NULL, NULL, NULL) == KMPS_ERR_INVALID);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(kmps_last_error(), "out_json");
  CHECK(kmps_kind_config("{}", NULL) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "out_yaml");
  CHECK(kmps_client_new(NULL, NULL) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "`out`");
  CHECK(kmps_client_ping(NULL) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "client");

  CHECK(kmps_client_exec(NULL, "c", argv, NULL, 0, &result) == KMPS_ERR_INVALID);
  CHECK(result == NULL);
  CHECK(kmps_client_exec(NULL, "c", argv, NULL, 0, NULL) == KMPS_ERR_INVALID);
  CHECK(kmps_cluster_status(NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);
  text = (char*)1;
  CHECK(kmps_cluster_up(NULL, NULL, NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);
  CHECK(kmps_cluster_up(NULL, NULL, NULL, NULL, NULL) == KMPS_ERR_INVALID);
  CHECK(kmps_cluster_down(NULL, NULL, NULL, 0, NULL, NULL) == KMPS_ERR_INVALID);
  text = (char*)1;
  CHECK(kmps_mps_command(NULL, NULL, NULL, "get_server_list", &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);
  text = (char*)1;
  CHECK(kmps_mps_command_all(NULL, NULL, "get_server_list", &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);

  /* With a valid (unconnected) handle, the other arguments are checked too. */
  client = NULL;
  CHECK(kmps_client_new(&client, kMissingSocket) == KMPS_OK);
  CHECK(client != NULL);
  CHECK(kmps_client_exec(client, NULL, argv, NULL, 0, &result) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "container");
  CHECK(kmps_client_exec(client, "c", NULL, NULL, 0, &result) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "argv");
  {
    const char* empty[] = {NULL};
    CHECK(kmps_client_exec(client, "c", empty, NULL, 0, &result) == KMPS_ERR_INVALID);
  }
  CHECK(kmps_mps_command(client, NULL, NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "command");
  CHECK(kmps_mps_command(client, NULL, NULL, "", &text) == KMPS_ERR_INVALID);
  CHECK(kmps_mps_command_all(client, NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "command");
  CHECK(kmps_mps_command_all(client, NULL, "", &text) == KMPS_ERR_INVALID);
  CHECK(kmps_mps_command_all(client, NULL, "get_server_list", NULL) == KMPS_ERR_INVALID);
  kmps_client_free(client);

  /* Every free function accepts NULL. */
  kmps_free(NULL);
  kmps_client_free(NULL);
  kmps_exec_result_free(NULL);
}

/* The names of libkindmps 0.1.0 still work, as the same functions (programs built against them;
 * check_exports.sh checks that they are aliases). New code gets a deprecation warning. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void test_deprecated_names(void) {
  char* text = (char*)1;
  kmps_client* client = NULL;
  CHECK(kmps_status(NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);
  CHECK_CONTAINS(kmps_last_error(), "kmps_cluster_status: argument `client`");
  text = (char*)1;
  CHECK(kmps_up(NULL, NULL, NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK(text == NULL);
  CHECK(kmps_down(NULL, NULL, NULL, 0, NULL, NULL) == KMPS_ERR_INVALID);
  CHECK(kmps_client_new(&client, kMissingSocket) == KMPS_OK);
  CHECK(kmps_status(client, "kmps-capi-none", &text) == KMPS_ERR_ENVIRONMENT);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_UNAVAILABLE);
  CHECK(kmps_up(client, "{\"recreate\": 1}", NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "recreate");
  CHECK(kmps_down(client, "kmps-capi-none", NULL, 1, NULL, NULL) == KMPS_ERR_ENVIRONMENT);
  kmps_client_free(client);
}
#pragma GCC diagnostic pop

static void test_error_cleared_by_success(void) {
  kmps_client* client = NULL;
  CHECK(kmps_client_ping(NULL) == KMPS_ERR_INVALID);
  CHECK(strlen(kmps_last_error()) > 0);
  CHECK(kmps_client_new(&client, kMissingSocket) == KMPS_OK);
  CHECK(strcmp(kmps_last_error(), "") == 0);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_NONE);
  kmps_client_free(client);
  CHECK(strcmp(kmps_error_kind_name(KMPS_ERROR_NOT_FOUND), "not found") == 0);
  CHECK(strcmp(kmps_error_kind_name(12345), "unknown") == 0);
}

struct thread_report {
  int kind_at_start;
  int code;
  int kind_after;
  char text[256];
};

static void* thread_body(void* arg) {
  struct thread_report* r = (struct thread_report*)arg;
  kmps_client* client = NULL;
  r->kind_at_start = kmps_last_error_kind();
  r->code = kmps_client_new(&client, "ssh://example");
  r->kind_after = kmps_last_error_kind();
  snprintf(r->text, sizeof r->text, "%s", kmps_last_error());
  return NULL;
}

static void test_last_error_is_per_thread(void) {
  pthread_t t;
  struct thread_report r;
  memset(&r, 0, sizeof r);
  CHECK(kmps_client_ping(NULL) == KMPS_ERR_INVALID);
  CHECK(pthread_create(&t, NULL, thread_body, &r) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(r.kind_at_start == KMPS_ERROR_NONE);
  CHECK(r.code == KMPS_ERR_INVALID);
  CHECK(r.kind_after == KMPS_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(r.text, "ssh://example");
  /* This thread's error is untouched by the other's. */
  CHECK(kmps_last_error_kind() == KMPS_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(kmps_last_error(), "client");
}

static void test_host_inspect_missing_driver(void) {
  char* json = NULL;
  int rc = kmps_host_inspect("/nonexistent-kmps-capi-root", "/nonexistent-kmps-capi-root", &json);
  CHECK(rc == KMPS_ERR_ENVIRONMENT);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_ENVIRONMENT);
  CHECK_CONTAINS(kmps_last_error(), "/nonexistent-kmps-capi-root");
  /* The inventory comes back anyway, saying what is missing. */
  CHECK(json != NULL);
  CHECK_CONTAINS(json, "\"complete\": false");
  CHECK_CONTAINS(json, "\"missing\": [");
  CHECK_CONTAINS(json, "libcuda.so.1");
  kmps_free(json);
}

static void test_kind_config_errors(void) {
  char* yaml = (char*)1;
  CHECK(kmps_kind_config("{\n  \"name\": \"x\",\n  \"workers\": ]\n}", &yaml) == KMPS_ERR_INVALID);
  CHECK(yaml == NULL);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_INVALID_ARGUMENT);
  CHECK(strncmp(kmps_last_error(), "<options>:3:14: ", 16) == 0);

  CHECK(kmps_kind_config("[1]", &yaml) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "JSON object");

  CHECK(kmps_kind_config("{\"wrokers\": 1}", &yaml) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "wrokers");

  CHECK(kmps_kind_config("{\"driverRoot\": \"/nonexistent-kmps-capi-root\"}", &yaml) == KMPS_ERR_ENVIRONMENT);
  CHECK(yaml == NULL);
  CHECK_CONTAINS(kmps_last_error(), "/nonexistent-kmps-capi-root");
}

static void test_client_bad_host(void) {
  kmps_client* client = (kmps_client*)1;
  CHECK(kmps_client_new(&client, "ssh://x") == KMPS_ERR_INVALID);
  CHECK(client == NULL);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_INVALID_ARGUMENT);
  CHECK_CONTAINS(kmps_last_error(), "ssh://x");
}

static void test_client_missing_socket(void) {
  kmps_client* client = NULL;
  kmps_exec_result* result = NULL;
  char* text = NULL;
  const char* argv[] = {"true", NULL};
  CHECK(kmps_client_new(&client, kMissingSocket) == KMPS_OK);
  CHECK(kmps_client_ping(client) == KMPS_ERR_ENVIRONMENT);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_UNAVAILABLE);
  CHECK_CONTAINS(kmps_last_error(), "/nonexistent-kmps-capi/docker.sock");
  CHECK(kmps_client_exec(client, "c", argv, NULL, 1000, &result) == KMPS_ERR_ENVIRONMENT);
  CHECK(result == NULL);
  CHECK(kmps_cluster_status(client, "kmps-capi-none", &text) == KMPS_ERR_ENVIRONMENT);
  CHECK(text == NULL);
  CHECK(kmps_mps_command(client, "kmps-capi-none", NULL, "get_server_list", &text) == KMPS_ERR_ENVIRONMENT);
  CHECK(kmps_mps_command_all(client, "kmps-capi-none", "get_server_list", &text) == KMPS_ERR_ENVIRONMENT);
  CHECK(text == NULL);
  CHECK(kmps_cluster_down(client, "kmps-capi-none", NULL, 1, NULL, NULL) == KMPS_ERR_ENVIRONMENT);
  /* Options are checked before Docker is asked. */
  CHECK(kmps_cluster_up(client, "{\"recreate\": 1}", NULL, NULL, &text) == KMPS_ERR_INVALID);
  CHECK_CONTAINS(kmps_last_error(), "recreate");
  kmps_client_free(client);
}

/* ---- Docker ---------------------------------------------------------------------------------- */

struct progress_log {
  int events;
  int started;
  int failed;
  int last_step;
  int last_total;
  char first_title[128];
};

static void on_progress(const kmps_progress_event* e, void* user) {
  struct progress_log* log = (struct progress_log*)user;
  if (log->events++ == 0) snprintf(log->first_title, sizeof log->first_title, "%s", e->title);
  if (e->kind == KMPS_PROGRESS_STEP_STARTED) ++log->started;
  if (e->kind == KMPS_PROGRESS_STEP_FAILED) ++log->failed;
  if (e->kind != KMPS_PROGRESS_LINE) {
    log->last_step = e->step;
    log->last_total = e->total;
  }
}

static int run(const char* command) {
  int rc = system(command);
  return rc;
}

static void test_with_docker(void) {
  kmps_client* client = NULL;
  kmps_exec_result* r = NULL;
  char container[64], cluster[64], cmd[256];
  char* text = NULL;
  const char* require = getenv("KMPS_REQUIRE_DOCKER");
  CHECK(kmps_client_new(&client, NULL) == KMPS_OK);
  if (kmps_client_ping(client) != KMPS_OK) {
    if (require != NULL && strcmp(require, "1") == 0) {
      CHECK(!"Docker is unreachable and KMPS_REQUIRE_DOCKER=1");
    } else {
      printf("SKIP docker tests: %s\n", kmps_last_error());
    }
    kmps_client_free(client);
    return;
  }
  snprintf(container, sizeof container, "kmps-capi-c-%ld", (long)getpid());
  snprintf(cluster, sizeof cluster, "kmps-capi-none-%ld", (long)getpid());
  snprintf(cmd, sizeof cmd,
           "docker run -d --name %s --cap-add SYS_ADMIN kmps-test:busybox sleep 600 >/dev/null", container);
  CHECK(run(cmd) == 0);

  {
    const char* argv[] = {"sh", "-c", "echo hi; echo oops >&2; exit 7", NULL};
    CHECK(kmps_client_exec(client, container, argv, NULL, 30000, &r) == KMPS_OK);
    CHECK(r != NULL);
    if (r != NULL) {
      CHECK(r->exit_code == 7);
      CHECK(r->out_len == 3 && memcmp(r->out, "hi\n", 3) == 0);
      CHECK(r->err_len == 5 && strcmp(r->err, "oops\n") == 0);
    }
    kmps_exec_result_free(r);
    r = NULL;
  }
  {
    const char* argv[] = {"printf", "a\\000b", NULL};
    CHECK(kmps_client_exec(client, container, argv, NULL, 30000, &r) == KMPS_OK);
    if (r != NULL) {
      CHECK(r->exit_code == 0);
      CHECK(r->out_len == 3 && memcmp(r->out, "a\0b", 3) == 0);
      CHECK(r->err_len == 0 && r->err != NULL && r->err[0] == '\0');
    }
    kmps_exec_result_free(r);
    r = NULL;
  }
  {
    const char* argv[] = {"sh", "-c", "echo \"$KMPS_A\"", NULL};
    const char* env[] = {"KMPS_A=from C", NULL};
    CHECK(kmps_client_exec(client, container, argv, env, 30000, &r) == KMPS_OK);
    if (r != NULL) CHECK(strcmp(r->out, "from C\n") == 0);
    kmps_exec_result_free(r);
    r = NULL;
  }
  {
    const char* argv[] = {"true", NULL};
    CHECK(kmps_client_exec(client, "kmps-capi-no-such-container", argv, NULL, 30000, &r) == KMPS_ERR_FAILED);
    CHECK(kmps_last_error_kind() == KMPS_ERROR_NOT_FOUND);
    CHECK_CONTAINS(kmps_last_error(), "kmps-capi-no-such-container");
    CHECK(r == NULL);
  }

  /* A cluster that is not there (no node, no saved state): not found, which is not "unhealthy";
     the error names it and how to make it, and no document comes back. */
  CHECK(kmps_cluster_status(client, cluster, &text) == KMPS_ERR_FAILED);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_NOT_FOUND);
  CHECK_CONTAINS(kmps_last_error(), "no cluster named kmps-capi-none");
  CHECK_CONTAINS(kmps_last_error(), "kindmps-api up -n");
  CHECK(text == NULL);
  CHECK(kmps_mps_command(client, cluster, NULL, "get_server_list", &text) == KMPS_ERR_FAILED);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_NOT_FOUND);
  CHECK_CONTAINS(kmps_last_error(), "no cluster named");
  CHECK(kmps_mps_command(client, cluster, "kmps-nonode", "get_server_list", &text) == KMPS_ERR_FAILED);
  CHECK(kmps_last_error_kind() == KMPS_ERROR_NOT_FOUND);
  CHECK(text == NULL);
  CHECK(kmps_mps_command_all(client, cluster, "get_server_list", &text) == KMPS_ERR_FAILED);
  CHECK_CONTAINS(kmps_last_error(), "no cluster named");
  CHECK(text == NULL);

  /* up stops at its first step when the driver is missing; the callback sees it, with user data. */
  {
    struct progress_log log;
    char options[256];
    memset(&log, 0, sizeof log);
    snprintf(options, sizeof options, "{\"name\": \"%s\", \"driverRoot\": \"/nonexistent-kmps-capi-root\"}", cluster);
    CHECK(kmps_cluster_up(client, options, on_progress, &log, &text) == KMPS_ERR_ENVIRONMENT);
    CHECK(text == NULL);
    CHECK(log.started == 1 && log.failed == 1);
    CHECK(log.last_step == 1 && log.last_total == 6);
    CHECK_CONTAINS(log.first_title, "Inspect");
  }
  /* down: kind is missing, which it checks before any step (no daemon is stopped). */
  {
    struct progress_log log;
    memset(&log, 0, sizeof log);
    CHECK(kmps_cluster_down(client, cluster, "/nonexistent-kmps-capi/kind", 0, on_progress, &log) ==
          KMPS_ERR_ENVIRONMENT);
    CHECK_CONTAINS(kmps_last_error(), "/nonexistent-kmps-capi/kind");
    CHECK(log.started == 0 && log.failed == 0);
    memset(&log, 0, sizeof log);
    CHECK(kmps_cluster_down(client, cluster, NULL, 1, on_progress, &log) == KMPS_OK);
    CHECK(log.started == 1 && log.failed == 0);
  }

  snprintf(cmd, sizeof cmd, "docker rm -f %s >/dev/null 2>&1", container);
  CHECK(run(cmd) == 0);
  kmps_client_free(client);
}

int main(void) {
  test_version();
  test_null_arguments();
  test_deprecated_names();
  test_error_cleared_by_success();
  test_last_error_is_per_thread();
  test_host_inspect_missing_driver();
  test_kind_config_errors();
  test_client_bad_host();
  test_client_missing_socket();
  test_with_docker();
  if (failures != 0) {
    fprintf(stderr, "capi_test: %d of %d checks FAILED\n", failures, checks);
    return 1;
  }
  printf("capi_test: all %d checks passed\n", checks);
  return 0;
}
