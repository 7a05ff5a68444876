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
  /* The devices it is to serve: with a GPU table (emu_node_gpus), CUDA_VISIBLE_DEVICES as CUDA
   * reads it; none is the failure of a server that finds no GPU. */
  struct emu_gpu gpus[EMU_MAX_GPUS];
  int ngpus = emu_node_gpus(gpus, EMU_MAX_GPUS);
  int visible[EMU_MAX_GPUS];
  int nvisible = 0;
  char devices[EMU_MAX_GPUS * EMU_UUID_MAX] = "";
  if (ngpus >= 0) {
    char bad[EMU_UUID_MAX];
    nvisible = emu_visible_gpus(getenv("CUDA_VISIBLE_DEVICES"), gpus, ngpus, visible, EMU_MAX_GPUS, bad, sizeof bad);
    if (nvisible == 0) {
      SERVER("Failed to start : %s", EMU_MSG_NO_DEVICE);
      char failed[128];
      int k = snprintf(failed, sizeof failed, "FAILED %d %s\n", (int)getpid(), EMU_MSG_NO_DEVICE);
      (void)emu_write_all(fd, failed, (size_t)k);
      /* Exit once the daemon has read it (it closes the connection), so that it learns why before
       * it reaps this process. */
      struct pollfd p = {.fd = fd, .events = POLLIN};
      char drain[64];
      long long until = emu_now_ms() + 3000;
      while (!g_term && emu_now_ms() < until) {
        int rc = poll(&p, 1, 100);
        if (rc > 0 && read(fd, drain, sizeof drain) <= 0) break;
        if (rc < 0 && errno != EINTR) break;
      }
      return 1;
    }
    size_t used = 0;
    for (int i = 0; i < nvisible; ++i) {
      int w = snprintf(devices + used, sizeof devices - used, "%s%s", i > 0 ? "," : "", gpus[visible[i]].uuid);
      if (w > 0 && (size_t)w < sizeof devices - used) used += (size_t)w;
    }
  }
  const char *pct = getenv("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE");
  if (ngpus < 0) SERVER("Creating server context on device 0 (MPS emulator)");
  for (int i = 0; i < nvisible; ++i)
    SERVER("Creating server context on device %d (MPS emulator, %s)", i, gpus[visible[i]].uuid);
  SERVER("Created anonymous shared memory region mps.shm.0.%d", (int)getpid());
  SERVER("CUDA MPS Server for Linux/Unix. Binary version: %s", EMU_BINARY_VERSION);
  SERVER("Display Driver version: 580");
  SERVER("Active Threads Percentage set to %s", pct != NULL ? pct : "100.0");
  SERVER("Server Priority set to 0");
  SERVER("Server has started");
  if (g_term) shutdown_and_exit();

  char hello[sizeof devices + 64];
  int n = snprintf(hello, sizeof hello, "SERVER %d %ld%s%s\n", (int)getpid(),
                   env_long("MPS_EMU_SERVER_UID", (long)getuid()), devices[0] != '\0' ? " " : "", devices);
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
