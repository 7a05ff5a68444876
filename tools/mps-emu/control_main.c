/* nvidia-cuda-mps-control stand-in: `-d` starts the daemon, `-f` runs it in the foreground,
 * no argument reads commands from stdin and sends them to the daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control_daemon.h"
#include "emu_common.h"

#define READY_FD_ENV "MPS_EMU_DAEMON_READY_FD"

static int pid_file_names_live_daemon(const char *pipe_dir) {
  char path[EMU_PATH_MAX];
  emu_join(path, pipe_dir, "nvidia-cuda-mps-control.pid");
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  int pid = 0;
  int ok = fscanf(f, "%d", &pid) == 1;
  fclose(f);
  if (!ok || pid <= 0 || pid == getpid()) return 0;
  if (kill(pid, 0) != 0 && errno != EPERM) return 0;
  /* A recycled pid is not our daemon: its command line must name the control binary. */
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%d/cmdline", pid);
  FILE *c = fopen(proc, "r");
  if (c == NULL) return 1; /* alive but unreadable: assume it is ours */
  char cmd[256] = {0};
  size_t n = fread(cmd, 1, sizeof cmd - 1, c);
  fclose(c);
  cmd[n] = '\0';
  return strstr(cmd, EMU_CONTROL_NAME) != NULL;
}

static int socket_answers(const char *pipe_dir) {
  char path[EMU_PATH_MAX];
  emu_join(path, pipe_dir, "control");
  int fd = emu_connect(path);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

static int lock_is_held(const char *pipe_dir) {
  char path[EMU_PATH_MAX];
  emu_join(path, pipe_dir, "control_lock");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;
  int held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd); /* releases the lock if we just took it */
  return held;
}

static int daemon_running(const char *pipe_dir) {
  return pid_file_names_live_daemon(pipe_dir) || socket_answers(pipe_dir) || lock_is_held(pipe_dir);
}

static int prepare_dirs(void) {
  if (emu_mkdir_p(emu_pipe_dir(), 0755) != 0) {
    printf("Failed to create pipe directory %s: %s\n", emu_pipe_dir(), strerror(errno));
    return -1;
  }
  if (emu_mkdir_p(emu_log_dir(), 0755) != 0) {
    printf("Failed to create log directory %s: %s\n", emu_log_dir(), strerror(errno));
    return -1;
  }
  return 0;
}

/* Double fork; the grandchild becomes the daemon and reports through a pipe when its sockets
 * are up, so that `-d` returns only once commands can be sent. */
static int start_daemon(int argc, char **argv) {
  if (prepare_dirs() != 0) return 1;
  if (daemon_running(emu_pipe_dir())) {
    printf("%s\n", EMU_MSG_RUNNING);
    return 1;
  }
  fflush(stdout);
  int p[2];
  if (pipe(p) != 0) {
    perror("pipe");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    close(p[0]);
    setsid();
    pid_t grand = fork();
    if (grand != 0) _exit(grand < 0 ? 1 : 0);
    /* Keep the command line exactly "nvidia-cuda-mps-control -d": re-exec only when we were
     * started under another argv[0] (a full path, say). exec keeps the pid. */
    if (argc != 2 || strcmp(argv[0], EMU_CONTROL_NAME) != 0) {
      char fdbuf[16];
      snprintf(fdbuf, sizeof fdbuf, "%d", p[1]);
      setenv(READY_FD_ENV, fdbuf, 1);
      char *const nargv[] = {(char *)EMU_CONTROL_NAME, (char *)"-d", NULL};
      /* exec the resolved path, not /proc/self/exe, so that comm stays "nvidia-cuda-mps". */
      char self[EMU_PATH_MAX];
      ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
      if (n > 0) {
        self[n] = '\0';
        execv(self, nargv);
      }
      execv("/proc/self/exe", nargv);
      unsetenv(READY_FD_ENV); /* fall back to running here */
    }
    _exit(emu_daemon_run(p[1], 0));
  }
  close(p[1]);
  int st;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  char msg[512];
  size_t n = 0;
  for (;;) {
    ssize_t r = read(p[0], msg + n, sizeof msg - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == sizeof msg - 1) break;
  }
  close(p[0]);
  msg[n] = '\0';
  if (strcmp(msg, "OK") == 0) return 0;
  if (strcmp(msg, "RUNNING") == 0) {
    printf("%s\n", EMU_MSG_RUNNING);
    return 1;
  }
  printf("%s\n", n > 0 ? msg : "Failed to start the control daemon");
  return 1;
}

/* Reads one reply (until its end byte) and copies it to stdout. 0 ok, 1 refused, -1 EOF. */
static int relay_reply(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    for (ssize_t i = 0; i < r; ++i) {
      if (buf[i] == EMU_REPLY_OK || buf[i] == EMU_REPLY_ERR) {
        (void)emu_write_all(1, buf, (size_t)i);
        return buf[i] == EMU_REPLY_OK ? 0 : 1;
      }
    }
    (void)emu_write_all(1, buf, (size_t)r);
  }
}

static int run_ui(void) {
  /* As the real utility: the privileged socket where this user may connect to it (root, or the
   * daemon's owner: it is srwxr-xr-x), else the public one, where the daemon refuses what would
   * change it (see control_daemon.c). A /dev/null bound over control_privileged falls through. */
  char path[EMU_PATH_MAX];
  emu_join(path, emu_pipe_dir(), "control_privileged");
  int fd = emu_connect(path);
  if (fd < 0) {
    emu_join(path, emu_pipe_dir(), "control");
    fd = emu_connect(path);
  }
  if (fd < 0) {
    printf("%s\n", EMU_MSG_NO_DAEMON);
    return 1;
  }
  if (emu_write_all(fd, "UI\n", 3) != 0) {
    printf("%s\n", EMU_MSG_NO_DAEMON);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0;
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    size_t skip = strspn(line, " \t");
    if (line[skip] == '\0') continue;
    line[len] = '\n';
    if (emu_write_all(fd, line + skip, (size_t)len + 1 - skip) != 0) {
      rc = 1;
      break;
    }
    int r = relay_reply(fd);
    if (r != 0) {
      rc = 1;
      break;
    }
  }
  free(line);
  close(fd);
  return rc;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  const char *ready = getenv(READY_FD_ENV);
  if (ready != NULL) {
    int fd = atoi(ready);
    unsetenv(READY_FD_ENV);
    return emu_daemon_run(fd, 0);
  }
  if (argc >= 2 && strcmp(argv[1], "-d") == 0) return start_daemon(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "-f") == 0) {
    if (prepare_dirs() != 0) return 1;
    if (daemon_running(emu_pipe_dir())) {
      printf("%s\n", EMU_MSG_RUNNING);
      return 1;
    }
    return emu_daemon_run(-1, 1);
  }
  if (argc >= 2) {
    printf("Usage: %s [-d | -f]\n", EMU_CONTROL_NAME);
    return 1;
  }
  return run_ui();
}
