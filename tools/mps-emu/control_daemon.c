/* The control daemon of the MPS emulator: one thread, one poll loop. */
#define _GNU_SOURCE
#include "control_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu_common.h"

#define MAX_CONNS 64
#define MAX_SERVERS 4
#define QUIT_GRACE_MS 3000

enum conn_kind { C_FREE, C_NEW, C_UI, C_CLIENT, C_SERVER };
enum srv_state { S_FREE, S_STARTING, S_READY, S_STOPPING, S_FAILED };
enum fault { F_NONE, F_DIE, F_HANG, F_REFUSE };

#define MAX_DEVICES 16

struct conn {
  enum conn_kind kind;
  int fd;
  char in[4096];
  size_t in_len;
  int hung;            /* UI: a hang fault ate a command; never answer again */
  int deferred;        /* UI: the command in `in` waits for a starting server */
  int privileged;      /* accepted on control_privileged */
  int peer_uid;        /* SO_PEERCRED of the connecting process */
  int peer_pid;        /* likewise, in the daemon's PID namespace (0 when it is not there) */
  int uid;             /* CLIENT */
  int pid;             /* CLIENT */
  int waiting;         /* CLIENT: pushed to the pending list */
  pid_t server;        /* CLIENT: attached to this server */
};

struct server {
  enum srv_state state;
  pid_t pid;
  int uid;
  int conn; /* index into conns or -1 */
  double pct;
  int served; /* has had a client */
  char devices[EMU_MAX_GPUS * EMU_UUID_MAX]; /* "GPU-a,GPU-b" it serves; "" without a GPU table */
};

struct daemon_state {
  char pipe_dir[EMU_PATH_MAX];
  char log_dir[EMU_PATH_MAX];
  char server_bin[EMU_PATH_MAX];
  int log_fd;
  int listen_fd[2];
  int sig_pipe[2];
  struct conn conns[MAX_CONNS];
  struct server servers[MAX_SERVERS];
  double default_pct;
  char pinned[MAX_DEVICES][32]; /* set_default_device_pinned_mem_limit, per device */
  int pending_uid;
  int quitting;
  int quit_conn;
  long long quit_deadline;
  int foreground;
};

static struct daemon_state D;
static volatile sig_atomic_t g_term;

#define LOG(...) emu_log(D.log_fd, "Control", getpid(), __VA_ARGS__)

/* ---------- small buffers ---------- */

struct reply {
  char text[8192];
  size_t len;
};

static void reply_add(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_add(struct reply *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  r->len += (size_t)n;
  if (r->len >= sizeof r->text) r->len = sizeof r->text - 1;
}

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGTERM || sig == SIGINT) g_term = 1;
  char c = (char)sig;
  ssize_t ignored = write(D.sig_pipe[1], &c, 1);
  (void)ignored;
  errno = saved;
}

/* ---------- servers ---------- */

static struct server *server_by_pid(pid_t pid) {
  for (int i = 0; i < MAX_SERVERS; ++i)
    if (D.servers[i].state != S_FREE && D.servers[i].pid == pid) return &D.servers[i];
  return NULL;
}

/* The server that is neither free nor stopping (at most one). */
static struct server *live_server(void) {
  for (int i = 0; i < MAX_SERVERS; ++i)
    if (D.servers[i].state == S_STARTING || D.servers[i].state == S_READY) return &D.servers[i];
  return NULL;
}

static int any_server(void) {
  for (int i = 0; i < MAX_SERVERS; ++i)
    if (D.servers[i].state != S_FREE) return 1;
  return 0;
}

static int any_starting(void) {
  for (int i = 0; i < MAX_SERVERS; ++i)
    if (D.servers[i].state == S_STARTING) return 1;
  return 0;
}

static int clients_of(pid_t server) {
  int n = 0;
  for (int i = 0; i < MAX_CONNS; ++i)
    if (D.conns[i].kind == C_CLIENT && D.conns[i].server == server) ++n;
  return n;
}

static void send_line(int conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_line(int conn, const char *fmt, ...) {
  if (conn < 0 || D.conns[conn].kind == C_FREE) return;
  char buf[EMU_MAX_GPUS * EMU_UUID_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) return;
  (void)emu_write_all(D.conns[conn].fd, buf, (size_t)n);
}

/* Reads "<verb> ..." directives from <pipe dir>/emu-faults. */
static long fault_value(const char *verb) {
  char path[EMU_PATH_MAX];
  emu_join(path, D.pipe_dir, "emu-faults");
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  char line[512];
  long v = -1;
  size_t vl = strlen(verb);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, verb, vl) == 0 && line[vl] == ' ') v = strtol(line + vl + 1, NULL, 10);
  }
  fclose(f);
  return v;
}

static void start_server(int uid) {
  struct server *s = NULL;
  for (int i = 0; i < MAX_SERVERS; ++i)
    if (D.servers[i].state == S_FREE) {
      s = &D.servers[i];
      break;
    }
  if (s == NULL) {
    LOG("Too many servers, cannot start one for user %d", uid);
    return;
  }
  long delay = fault_value("slow-server");
  pid_t pid = fork();
  if (pid < 0) {
    LOG("Failed to fork server: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    LOG("Starting new server %d for user %d", (int)getpid(), uid);
    char buf[64];
    snprintf(buf, sizeof buf, "%.1f", D.default_pct);
    setenv("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", buf, 1);
    snprintf(buf, sizeof buf, "%d", uid);
    setenv("MPS_EMU_SERVER_UID", buf, 1);
    snprintf(buf, sizeof buf, "%d", (int)getppid());
    setenv("MPS_EMU_DAEMON_PID", buf, 1);
    snprintf(buf, sizeof buf, "%ld", delay > 0 ? delay : 0L);
    setenv("MPS_EMU_READY_DELAY_MS", buf, 1);
    setenv("CUDA_MPS_PIPE_DIRECTORY", D.pipe_dir, 1);
    setenv("CUDA_MPS_LOG_DIRECTORY", D.log_dir, 1);
    char *const argv[] = {(char *)EMU_SERVER_NAME, NULL};
    execv(D.server_bin, argv);
    LOG("Failed to exec server binary %s: %s", D.server_bin, strerror(errno));
    _exit(127);
  }
  memset(s, 0, sizeof *s);
  s->state = S_STARTING;
  s->pid = pid;
  s->uid = uid;
  s->conn = -1;
  s->pct = D.default_pct;
}

static void stop_server(struct server *s, int force) {
  if (force) {
    kill(s->pid, SIGKILL);
  } else if (s->state != S_STOPPING) {
    if (s->conn >= 0)
      send_line(s->conn, "SHUTDOWN\n");
    else
      kill(s->pid, SIGTERM);
  }
  s->state = S_STOPPING;
}

static void attach(int ci, struct server *s) {
  struct conn *c = &D.conns[ci];
  c->waiting = 0;
  c->server = s->pid;
  s->served = 1;
  send_line(ci, "READY %d%s%s\n", (int)s->pid, s->devices[0] != '\0' ? " " : "", s->devices);
  send_line(s->conn, "CLIENT %d\n", c->pid);
}

/* Starts a server when none runs and someone waits for one. */
static void schedule(void) {
  if (D.quitting || any_server()) return;
  int uid = D.pending_uid;
  if (uid < 0) {
    for (int i = 0; i < MAX_CONNS; ++i)
      if (D.conns[i].kind == C_CLIENT && D.conns[i].waiting) {
        uid = D.conns[i].uid;
        break;
      }
  }
  D.pending_uid = -1;
  if (uid >= 0) start_server(uid);
}

/* ---------- connections ---------- */

static void ui_pump(int ci);

static void close_conn(int ci) {
  struct conn *c = &D.conns[ci];
  if (c->kind == C_UI) LOG("UI closed");
  if (c->kind == C_CLIENT && c->server > 0) {
    struct server *s = server_by_pid(c->server);
    if (s != NULL) send_line(s->conn, "GONE %d\n", c->pid);
  }
  if (c->kind == C_SERVER) {
    for (int i = 0; i < MAX_SERVERS; ++i)
      if (D.servers[i].state != S_FREE && D.servers[i].conn == ci) D.servers[i].conn = -1;
  }
  close(c->fd);
  memset(c, 0, sizeof *c);
  c->kind = C_FREE;
  c->fd = -1;
}

static void pump_deferred(void) {
  for (int i = 0; i < MAX_CONNS; ++i)
    if (D.conns[i].kind == C_UI && D.conns[i].deferred) {
      D.conns[i].deferred = 0;
      ui_pump(i);
    }
}

static void reap_children(void) {
  int st;
  pid_t pid;
  int changed = 0;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    struct server *s = server_by_pid(pid);
    if (s == NULL) continue;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    LOG("Server %d exited with status %d", (int)pid, code);
    if (s->conn >= 0) close_conn(s->conn);
    for (int i = 0; i < MAX_CONNS; ++i)
      if (D.conns[i].kind == C_CLIENT && D.conns[i].server == pid) D.conns[i].server = 0;
    memset(s, 0, sizeof *s);
    s->state = S_FREE;
    changed = 1;
  }
  if (changed) {
    schedule();
    pump_deferred();
  }
}

static void finish_quit(void) {
  LOG("Exit with status 0");
  char path[EMU_PATH_MAX];
  emu_join(path, D.pipe_dir, "nvidia-cuda-mps-control.pid");
  unlink(path);
  emu_join(path, D.pipe_dir, "log");
  unlink(path);
  /* Like the real daemon: control, control_lock and control_privileged stay behind. */
  if (D.quit_conn >= 0 && D.conns[D.quit_conn].kind == C_UI) {
    char end = EMU_REPLY_OK;
    (void)emu_write_all(D.conns[D.quit_conn].fd, &end, 1);
  }
  for (int i = 0; i < MAX_CONNS; ++i)
    if (D.conns[i].kind != C_FREE) close_conn(i);
  exit(0);
}

static void begin_quit(int ci) {
  if (D.quitting) return;
  D.quitting = 1;
  D.quit_conn = ci;
  D.quit_deadline = emu_now_ms() + QUIT_GRACE_MS;
  for (int i = 0; i < MAX_SERVERS; ++i) {
    struct server *s = &D.servers[i];
    if (s->state == S_FREE) continue;
    LOG("Try shutting down server %d, backoff is disabled", (int)s->pid);
    stop_server(s, 0);
  }
  if (!any_server()) finish_quit();
}

static enum fault lookup_fault(const char *verb) {
  char path[EMU_PATH_MAX];
  emu_join(path, D.pipe_dir, "emu-faults");
  FILE *f = fopen(path, "r");
  if (f == NULL) return F_NONE;
  char lines[64][256];
  int n = 0;
  int refuse_line = -1;
  enum fault found = F_NONE;
  while (n < 64 && fgets(lines[n], sizeof lines[n], f) != NULL) {
    char word[64] = "", arg[128] = "";
    int k = sscanf(lines[n], "%63s %127s", word, arg);
    int match = k == 2 && strcmp(arg, verb) == 0;
    if (found == F_NONE) {
      if (strcmp(word, "die") == 0 && (k == 1 || match)) found = F_DIE;
      else if (strcmp(word, "hang") == 0 && match) found = F_HANG;
      else if (strcmp(word, "refuse-once") == 0 && match) {
        found = F_REFUSE;
        refuse_line = n;
      }
    }
    ++n;
  }
  fclose(f);
  if (refuse_line >= 0) { /* once: drop the directive */
    char tmp[EMU_PATH_MAX];
    emu_join(tmp, D.pipe_dir, "emu-faults.tmp");
    FILE *w = fopen(tmp, "w");
    if (w != NULL) {
      for (int i = 0; i < n; ++i)
        if (i != refuse_line) fputs(lines[i], w);
      fclose(w);
      rename(tmp, path);
    }
  }
  return found;
}

static int parse_pid(const char *s, pid_t *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || v <= 0) return -1;
  *out = (pid_t)v;
  return 0;
}

static int parse_pct(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || v < 0.0 || v > 100.0) return -1;
  *out = v;
  return 0;
}

/* Runs one UI command. Returns 0 with the reply in r, 1 for a refusal, 2 when the command
 * must wait (deferred), 3 when it must never be answered, 4 when quit takes over. */
static int run_command(int ci, char *line, struct reply *r) {
  char *argv[8];
  int argc = 0;
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", line);
  for (char *tok = strtok(copy, " \t"); tok != NULL && argc < 8; tok = strtok(NULL, " \t"))
    argv[argc++] = tok;
  if (argc == 0) return 0;
  const char *cmd = argv[0];

  if (strcmp(cmd, "get_server_list") == 0 && any_starting()) return 2;

  LOG("Cmd:%s", line);
  switch (lookup_fault(cmd)) {
    case F_DIE:
      _exit(1); /* abrupt: sockets, lock and pid file stay */
    case F_HANG:
      return 3;
    case F_REFUSE:
      reply_add(r, "%s\n", EMU_MSG_REFUSED);
      return 1;
    case F_NONE:
      break;
  }

  /* Who may change the daemon, as the real one answered on an H200 (driver 580.159.04,
   * docs/gpu-e2e-run/h200-mps-access-probe.log): settings and quit only through
   * control_privileged (root, or the daemon's owner: its mode is srwxr-xr-x); start_server from
   * root or the owner through either socket; shutdown_server also from the server's own user (a
   * uid-1000 Pod stopped the uid-1000 server: docs/gpu-e2e.md). A refusal exits 0 and is logged,
   * as every reply. terminate_client was not measured: treated as quit. */
  struct conn *uc = &D.conns[ci];
  int owner = uc->peer_uid == 0 || uc->peer_uid == (int)geteuid();
  if ((strncmp(cmd, "set_", 4) == 0 && !uc->privileged) || (strcmp(cmd, "start_server") == 0 && !owner)) {
    reply_add(r, EMU_MSG_NO_SETTINGS, uc->peer_uid);
    return 0;
  }
  if (strcmp(cmd, "shutdown_server") == 0 && !uc->privileged) {
    /* The H200 let a uid-1000 Pod shut down the uid-1000 server (its own user's). */
    pid_t target;
    struct server *ts = (argc >= 2 && parse_pid(argv[1], &target) == 0) ? server_by_pid(target) : NULL;
    if (ts == NULL || ts->uid != uc->peer_uid) {
      reply_add(r, EMU_MSG_NO_COMMAND, cmd);
      return 0;
    }
  }
  if ((strcmp(cmd, "quit") == 0 || strcmp(cmd, "terminate_client") == 0) && !uc->privileged) {
    reply_add(r, EMU_MSG_NO_COMMAND, cmd);
    return 0;
  }

  if (strcmp(cmd, "get_server_list") == 0) {
    for (int i = 0; i < MAX_SERVERS; ++i)
      if (D.servers[i].state != S_FREE && D.servers[i].state != S_FAILED) reply_add(r, "%d\n", (int)D.servers[i].pid);
  } else if (strcmp(cmd, "start_server") == 0) {
    int uid = -1;
    if (argc == 3 && strcmp(argv[1], "-uid") == 0) uid = atoi(argv[2]);
    if (uid < 0) {
      reply_add(r, "Invalid arguments: start_server -uid <uid>\n");
      return 0;
    }
    struct server *s = live_server();
    if (s != NULL && s->uid != uid) {
      reply_add(r, "Try shutting down server %d, backoff is disabled\n", (int)s->pid);
      D.pending_uid = uid;
      stop_server(s, 0);
    } else if (s == NULL) {
      D.pending_uid = uid;
      schedule(); /* starts now unless an old server is still stopping */
    }
  } else if (strcmp(cmd, "shutdown_server") == 0) {
    pid_t pid;
    if (argc >= 2 && parse_pid(argv[1], &pid) == 0) {
      struct server *s = server_by_pid(pid);
      if (s != NULL) stop_server(s, argc >= 3 && strcmp(argv[2], "1") == 0);
    }
  } else if (strcmp(cmd, "get_server_status") == 0) {
    pid_t pid;
    struct server *s = (argc >= 2 && parse_pid(argv[1], &pid) == 0) ? server_by_pid(pid) : NULL;
    if (s != NULL) {
      /* The real daemon printed FAULT for a server started by start_server that never had a
       * client, and ACTIVE for one that had served clients (H100 run, 2026-11-26); mirror it. */
      const char *st = s->state == S_STARTING ? "INIT"
                       : s->state == S_STOPPING ? "SHUTDOWN"
                       : (clients_of(s->pid) > 0 || s->served) ? "ACTIVE"
                                                                : "FAULT";
      reply_add(r, "%s\n", st);
    }
  } else if (strcmp(cmd, "get_client_list") == 0) {
    pid_t pid;
    if (argc >= 2 && parse_pid(argv[1], &pid) == 0)
      for (int i = 0; i < MAX_CONNS; ++i)
        if (D.conns[i].kind == C_CLIENT && D.conns[i].server == pid)
          reply_add(r, "%d\n", D.conns[i].pid);
  } else if (strcmp(cmd, "get_device_client_list") == 0) {
    /* Nothing while no client is attached, as recorded. */
  } else if (strcmp(cmd, "get_default_active_thread_percentage") == 0) {
    reply_add(r, "%.1f\n", D.default_pct);
  } else if (strcmp(cmd, "set_default_active_thread_percentage") == 0) {
    double v;
    if (argc < 2 || parse_pct(argv[1], &v) != 0) {
      reply_add(r, "Invalid active thread percentage\n");
    } else {
      D.default_pct = v;
      reply_add(r, "%.1f\n", v);
    }
  } else if (strcmp(cmd, "get_active_thread_percentage") == 0) {
    pid_t pid;
    struct server *s = (argc >= 2 && parse_pid(argv[1], &pid) == 0) ? server_by_pid(pid) : NULL;
    if (s != NULL) reply_add(r, "%.1f\n", s->pct);
  } else if (strcmp(cmd, "set_active_thread_percentage") == 0) {
    pid_t pid;
    double v;
    struct server *s = (argc >= 2 && parse_pid(argv[1], &pid) == 0) ? server_by_pid(pid) : NULL;
    if (s != NULL && argc >= 3 && parse_pct(argv[2], &v) == 0) {
      s->pct = v;
      reply_add(r, "%.1f\n", v);
    }
  } else if (strcmp(cmd, "set_default_device_pinned_mem_limit") == 0) {
    if (argc >= 3) {
      LOG("set_default_device_pinned_mem_limit %s %s.", argv[1], argv[2]);
      int dev = atoi(argv[1]);
      if (dev >= 0 && dev < MAX_DEVICES) snprintf(D.pinned[dev], sizeof D.pinned[dev], "%s", argv[2]);
    }
  } else if (strcmp(cmd, "get_default_device_pinned_mem_limit") == 0) {
    /* The limit as it was set ("2G" on the H200), nothing where none is. */
    int dev = argc >= 2 ? atoi(argv[1]) : -1;
    if (dev >= 0 && dev < MAX_DEVICES && D.pinned[dev][0] != '\0') reply_add(r, "%s\n", D.pinned[dev]);
  } else if (strcmp(cmd, "quit") == 0) {
    begin_quit(ci);
    return 4;
  } else {
    reply_add(r, "Unknown command \"%s\"\n", line);
  }
  return 0;
}

static void log_reply_lines(const struct reply *r) {
  char copy[sizeof r->text];
  memcpy(copy, r->text, r->len);
  copy[r->len] = '\0';
  char *save = NULL;
  for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
    LOG("%s", l);
}

/* Takes the first line out of c->in into out; 0 if no full line yet. */
static int take_line(struct conn *c, char *out, size_t cap, int consume) {
  char *nl = memchr(c->in, '\n', c->in_len);
  if (nl == NULL) return 0;
  size_t n = (size_t)(nl - c->in);
  size_t k = n < cap - 1 ? n : cap - 1;
  memcpy(out, c->in, k);
  out[k] = '\0';
  if (k > 0 && out[k - 1] == '\r') out[k - 1] = '\0';
  if (consume) {
    memmove(c->in, nl + 1, c->in_len - n - 1);
    c->in_len -= n + 1;
  }
  return 1;
}

static void ui_pump(int ci) {
  struct conn *c = &D.conns[ci];
  char line[1024];
  while (c->kind == C_UI && !c->hung && !c->deferred && !D.quitting &&
         take_line(c, line, sizeof line, 0)) {
    struct reply r = {.len = 0};
    int rc = run_command(ci, line, &r);
    if (rc == 2) {
      c->deferred = 1;
      return;
    }
    take_line(c, line, sizeof line, 1);
    if (rc == 3) {
      c->hung = 1;
      return;
    }
    if (rc == 4) return;
    log_reply_lines(&r);
    r.text[r.len++] = rc == 1 ? EMU_REPLY_ERR : EMU_REPLY_OK;
    (void)emu_write_all(c->fd, r.text, r.len);
  }
}

static void on_hello(int ci, const char *line) {
  struct conn *c = &D.conns[ci];
  int a = 0, b = 0;
  if (strcmp(line, "UI") == 0) {
    c->kind = C_UI;
    LOG("NEW UI");
  } else if (sscanf(line, "CLIENT %d %d", &a, &b) == 2) {
    c->kind = C_CLIENT;
    c->uid = a;
    /* The pid the kernel gives the daemon, as the real one reports it: the client's pid in the
     * daemon's PID namespace (a Pod's process as the node sees it), 0 from a sibling namespace. */
    c->pid = c->peer_pid;
    (void)b;
    struct server *s = live_server();
    if (s != NULL && s->uid == a && s->state == S_READY) {
      LOG("NEW CLIENT %d from user %d: Server already exists", c->pid, a);
      attach(ci, s);
      return;
    }
    LOG("NEW CLIENT %d from user %d: Server is not ready, push client to pending list", c->pid, a);
    c->waiting = 1;
    if (s != NULL && s->uid != a) {
      LOG("Try shutting down server %d, backoff is disabled", (int)s->pid);
      D.pending_uid = a;
      stop_server(s, 0);
    } else {
      schedule();
    }
  } else if (sscanf(line, "FAILED %d", &a) == 1) {
    /* The server found no GPU to serve (server_main.c). As the real daemon logged a server that
     * failed to start (k8s-device-plugin#685); its waiting clients get the error. */
    struct server *s = server_by_pid(a);
    const char *why = strchr(line + 7, ' ');
    why = why != NULL ? why + 1 : EMU_MSG_NO_DEVICE;
    close_conn(ci);
    if (s == NULL) return;
    LOG("Server encountered a fatal exception. Shutting down");
    s->state = S_FAILED;
    for (int i = 0; i < MAX_CONNS; ++i)
      if (D.conns[i].kind == C_CLIENT && D.conns[i].waiting && D.conns[i].uid == s->uid) {
        D.conns[i].waiting = 0;
        send_line(i, "FAIL %s\n", why);
      }
    if (D.pending_uid == s->uid) D.pending_uid = -1;
    pump_deferred();
  } else if (sscanf(line, "SERVER %d %d", &a, &b) == 2) {
    struct server *s = server_by_pid(a);
    if (s == NULL) {
      LOG("Unknown server %d", a);
      close_conn(ci);
      return;
    }
    c->kind = C_SERVER;
    s->conn = ci;
    const char *devs = strchr(line + 7, ' '); /* after "SERVER <pid>" */
    devs = devs != NULL ? strchr(devs + 1, ' ') : NULL;
    snprintf(s->devices, sizeof s->devices, "%s", devs != NULL ? devs + 1 : "");
    if (s->state == S_STOPPING) { /* asked to stop before it connected */
      send_line(ci, "SHUTDOWN\n");
      return;
    }
    s->state = S_READY;
    LOG("NEW SERVER %d: Ready", a);
    for (int i = 0; i < MAX_CONNS; ++i)
      if (D.conns[i].kind == C_CLIENT && D.conns[i].waiting && D.conns[i].uid == s->uid)
        attach(i, s);
    pump_deferred();
  } else {
    LOG("User did not send valid credentials");
    close_conn(ci);
  }
}

static void on_readable(int ci) {
  struct conn *c = &D.conns[ci];
  if (c->in_len == sizeof c->in) { /* a line that long is garbage */
    close_conn(ci);
    return;
  }
  ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) {
    close_conn(ci);
    return;
  }
  c->in_len += (size_t)r;
  if (c->kind == C_NEW) {
    char line[4096];
    if (!take_line(c, line, sizeof line, 1)) return;
    on_hello(ci, line);
  }
  if (c->kind == C_UI) ui_pump(ci);
  if (c->kind == C_CLIENT || c->kind == C_SERVER) c->in_len = 0; /* nothing expected */
}

static void on_accept(int lfd) {
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  LOG("Accepting connection...");
  struct ucred cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) cred.uid = (uid_t)-1;
  for (int i = 0; i < MAX_CONNS; ++i) {
    if (D.conns[i].kind != C_FREE) continue;
    memset(&D.conns[i], 0, sizeof D.conns[i]);
    D.conns[i].kind = C_NEW;
    D.conns[i].fd = fd;
    D.conns[i].privileged = lfd == D.listen_fd[1];
    D.conns[i].peer_uid = (int)cred.uid;
    D.conns[i].peer_pid = (int)cred.pid;
    return;
  }
  LOG("Too many connections");
  close(fd);
}

/* ---------- start-up ---------- */

static int listen_at(const char *path, mode_t mode) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  unlink(path); /* a stale socket of an earlier daemon */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || chmod(path, mode) != 0 ||
      listen(fd, 64) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static void find_server_bin(void) {
  const char *env = getenv("MPS_EMU_SERVER_BIN");
  if (env != NULL && env[0] != '\0') {
    snprintf(D.server_bin, sizeof D.server_bin, "%s", env);
    return;
  }
  char self[EMU_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char cand[EMU_PATH_MAX];
    emu_join(cand, dirname(self), EMU_SERVER_NAME);
    if (access(cand, X_OK) == 0) {
      memcpy(D.server_bin, cand, sizeof cand);
      return;
    }
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char dirs[EMU_PATH_MAX];
  snprintf(dirs, sizeof dirs, "%s", path);
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
    char cand[EMU_PATH_MAX];
    emu_join(cand, d, EMU_SERVER_NAME);
    if (access(cand, X_OK) == 0) {
      memcpy(D.server_bin, cand, sizeof cand);
      return;
    }
  }
  snprintf(D.server_bin, sizeof D.server_bin, "%s", EMU_SERVER_NAME);
}

static void report(int ready_fd, const char *msg) {
  if (ready_fd < 0) {
    if (strcmp(msg, "OK") != 0) printf("%s\n", strcmp(msg, "RUNNING") == 0 ? EMU_MSG_RUNNING : msg);
    return;
  }
  (void)emu_write_all(ready_fd, msg, strlen(msg));
  close(ready_fd);
}

static int fail(int ready_fd, const char *what, const char *path) {
  char msg[EMU_PATH_MAX + 128];
  snprintf(msg, sizeof msg, "Failed to %s %s: %s", what, path, strerror(errno));
  report(ready_fd, msg);
  return 1;
}

int emu_daemon_run(int ready_fd, int foreground) {
  if (ready_fd >= 0) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  prctl(PR_SET_NAME, "nvidia-cuda-mps", 0, 0, 0);
  memset(&D, 0, sizeof D);
  D.foreground = foreground;
  D.default_pct = 100.0;
  D.pending_uid = -1;
  D.quit_conn = -1;
  D.log_fd = -1;
  for (int i = 0; i < MAX_CONNS; ++i) D.conns[i].fd = -1;
  snprintf(D.pipe_dir, sizeof D.pipe_dir, "%s", emu_pipe_dir());
  snprintf(D.log_dir, sizeof D.log_dir, "%s", emu_log_dir());
  umask(022);
  if (emu_mkdir_p(D.pipe_dir, 0755) != 0) return fail(ready_fd, "create pipe directory", D.pipe_dir);
  if (emu_mkdir_p(D.log_dir, 0755) != 0) return fail(ready_fd, "create log directory", D.log_dir);
  find_server_bin();

  char path[EMU_PATH_MAX];
  emu_join(path, D.pipe_dir, "control_lock");
  int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (lock < 0) return fail(ready_fd, "open", path);
  (void)fchmod(lock, 0666);
  if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
    report(ready_fd, "RUNNING");
    return 1;
  }

  emu_join(path, D.log_dir, "control.log");
  D.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (D.log_fd < 0) return fail(ready_fd, "open", path);
  emu_join(path, D.log_dir, "server.log");
  int slog = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (slog < 0) return fail(ready_fd, "open", path);
  close(slog);

  char ctl[EMU_PATH_MAX];
  emu_join(ctl, D.pipe_dir, "control");
  D.listen_fd[0] = listen_at(ctl, 0666);
  if (D.listen_fd[0] < 0) return fail(ready_fd, "listen on", ctl);
  emu_join(path, D.pipe_dir, "control_privileged");
  D.listen_fd[1] = listen_at(path, 0755);
  if (D.listen_fd[1] < 0) return fail(ready_fd, "listen on", path);
  emu_join(path, D.pipe_dir, "log");
  unlink(path);
  if (mkfifo(path, 0666) != 0) return fail(ready_fd, "create fifo", path);
  (void)chmod(path, 0666);

  emu_join(path, D.pipe_dir, "nvidia-cuda-mps-control.pid");
  FILE *pf = fopen(path, "w");
  if (pf == NULL) return fail(ready_fd, "write", path);
  fprintf(pf, "%d\n", (int)getpid());
  fclose(pf);

  if (pipe2(D.sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return fail(ready_fd, "create", "signal pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  if (!foreground) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
      if (devnull > 2) close(devnull);
    }
    if (chdir("/") != 0) { /* harmless */
    }
  }

  LOG("Starting control daemon using socket %s", ctl);
  LOG("To connect CUDA applications to this daemon, set env CUDA_MPS_PIPE_DIRECTORY=%s", D.pipe_dir);
  LOG("CUDA MPS Control binary version: %s", EMU_BINARY_VERSION);
  report(ready_fd, "OK");

  for (;;) {
    struct pollfd pfd[3 + MAX_CONNS];
    int idx[3 + MAX_CONNS];
    int n = 0;
    pfd[n].fd = D.sig_pipe[0];
    pfd[n].events = POLLIN;
    idx[n++] = -1;
    for (int l = 0; l < 2; ++l) {
      pfd[n].fd = D.listen_fd[l];
      pfd[n].events = POLLIN;
      idx[n++] = -2 - l;
    }
    for (int i = 0; i < MAX_CONNS; ++i) {
      if (D.conns[i].kind == C_FREE) continue;
      pfd[n].fd = D.conns[i].fd;
      pfd[n].events = POLLIN;
      idx[n++] = i;
    }
    int rc = poll(pfd, (nfds_t)n, D.quitting ? 50 : -1);
    if (rc < 0 && errno != EINTR) {
      LOG("poll failed: %s", strerror(errno));
      return 1;
    }
    if (rc > 0) {
      for (int k = 0; k < n; ++k) {
        if (pfd[k].revents == 0) continue;
        if (idx[k] == -1) {
          char buf[64];
          while (read(D.sig_pipe[0], buf, sizeof buf) > 0) {
          }
        } else if (idx[k] <= -2) {
          if (!D.quitting) on_accept(pfd[k].fd);
        } else if (D.conns[idx[k]].kind != C_FREE && D.conns[idx[k]].fd == pfd[k].fd) {
          on_readable(idx[k]);
        }
      }
    }
    reap_children();
    if (g_term && !D.quitting) begin_quit(-1);
    if (D.quitting) {
      if (!any_server()) finish_quit();
      if (emu_now_ms() > D.quit_deadline)
        for (int i = 0; i < MAX_SERVERS; ++i)
          if (D.servers[i].state != S_FREE) stop_server(&D.servers[i], 1);
    }
  }
}
