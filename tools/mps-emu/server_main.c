/* nvidia-cuda-mps-server stand-in: started by the emulated control daemon, registers with it,
 * logs like the real server, and exits on SHUTDOWN, on SIGTERM or when the daemon dies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "emu_common.h"

static volatile sig_atomic_t g_term;
static int g_log = -1;

static void on_term(int sig) {
  (void)sig;
  g_term = 1;
}

#define OTHER(...) emu_log(g_log, "Other", getpid(), __VA_ARGS__)
#define SERVER(...) emu_log(g_log, "Server", getpid(), __VA_ARGS__)

static long env_long(const char *name, long fallback) {
  const char *v = getenv(name);
  return (v != NULL && v[0] != '\0') ? strtol(v, NULL, 10) : fallback;
}

static void shutdown_and_exit(void) {
  SERVER("Server has been notified to shutdown");
  SERVER("Waiting for current clients to finish");
  SERVER("Exiting");
  exit(0);
}

int main(void) {
  prctl(PR_SET_NAME, "nvidia-cuda-mps", 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  long daemon_pid = env_long("MPS_EMU_DAEMON_PID", 0);
  if (daemon_pid > 0 && getppid() != (pid_t)daemon_pid) return 1; /* daemon died before prctl */

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  char path[EMU_PATH_MAX];
  emu_join(path, emu_log_dir(), "server.log");
  g_log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  char ctl[EMU_PATH_MAX];
  emu_join(ctl, emu_pipe_dir(), "control");

  OTHER("Startup");
  OTHER("Connecting to control daemon on socket: %s", ctl);
  int fd = emu_connect(ctl);
  if (fd < 0) {
    OTHER("Failed to connect to control daemon: %s", strerror(errno));
    return 1;
  }
  OTHER("Initializing server process");
  long delay = env_long("MPS_EMU_READY_DELAY_MS", 0);
  if (delay > 0) {
    struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_term) {
    }
  }
  const char *pct = getenv("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE");
  SERVER("Creating server context on device 0 (MPS emulator)");
  SERVER("Created anonymous shared memory region mps.shm.0.%d", (int)getpid());
  SERVER("CUDA MPS Server for Linux/Unix. Binary version: %s", EMU_BINARY_VERSION);
  SERVER("Display Driver version: 580");
  SERVER("Active Threads Percentage set to %s", pct != NULL ? pct : "100.0");
  SERVER("Server Priority set to 0");
  SERVER("Server has started");
  if (g_term) shutdown_and_exit();

  char hello[64];
  int n = snprintf(hello, sizeof hello, "SERVER %d %ld\n", (int)getpid(),
                   env_long("MPS_EMU_SERVER_UID", (long)getuid()));
  if (emu_write_all(fd, hello, (size_t)n) != 0) return 1;

  char buf[1024];
  size_t len = 0;
  for (;;) {
    if (g_term) shutdown_and_exit();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { /* the control daemon went away */
      SERVER("Lost connection to control daemon, exiting");
      return 0;
    }
    len += (size_t)r;
    buf[len] = '\0';
    char *nl;
    while ((nl = strchr(buf, '\n')) != NULL) {
      *nl = '\0';
      int cpid;
      if (strcmp(buf, "SHUTDOWN") == 0) {
        shutdown_and_exit();
      } else if (sscanf(buf, "CLIENT %d", &cpid) == 1) {
        SERVER("Client {PID: %d, Context ID: 0} connected", cpid);
        SERVER("Status of client {PID: %d, Context ID: 0} is ACTIVE", cpid);
      } else if (sscanf(buf, "GONE %d", &cpid) == 1) {
        SERVER("Client process %d disconnected", cpid);
      }
      size_t used = (size_t)(nl + 1 - buf);
      memmove(buf, nl + 1, len - used + 1);
      len -= used;
    }
    if (len == sizeof buf - 1) len = 0;
  }
}
