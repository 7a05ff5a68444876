/* mps-emu-client: stands in for a CUDA program that connects to MPS. It registers with the
 * emulated control daemon as a client (which starts a server lazily, like real MPS), prints the
 * server's pid once attached and, where the emulator knows GPUs, a "device N: GPU-..." line for
 * each GPU the server serves (docs/emulators.md), optionally sleeps, and exits.
 *   mps-emu-client [-uid N] [-sleep SECONDS]  */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu_common.h"

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  long uid = (long)getuid();
  double sleep_s = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-uid") == 0 && i + 1 < argc) {
      uid = strtol(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "-sleep") == 0 && i + 1 < argc) {
      sleep_s = strtod(argv[++i], NULL);
    } else {
      fprintf(stderr, "usage: mps-emu-client [-uid N] [-sleep SECONDS]\n");
      return 2;
    }
  }
  char path[EMU_PATH_MAX];
  emu_join(path, emu_pipe_dir(), "control");
  int fd = emu_connect(path);
  if (fd < 0) {
    printf("mps-emu-client: %s (%s: %s)\n", EMU_MSG_NO_DAEMON, path, strerror(errno));
    return 1;
  }
  char hello[64];
  int n = snprintf(hello, sizeof hello, "CLIENT %ld %d\n", uid, (int)getpid());
  if (emu_write_all(fd, hello, (size_t)n) != 0) {
    printf("mps-emu-client: lost the control daemon\n");
    return 1;
  }
  char line[EMU_MAX_GPUS * EMU_UUID_MAX + 64];
  int server = 0;
  if (emu_read_line(fd, line, sizeof line) < 0) {
    printf("mps-emu-client: the control daemon closed the connection\n");
    return 1;
  }
  if (strncmp(line, "FAIL ", 5) == 0) { /* its server found no GPU */
    printf("mps-emu-client: %s\n", line + 5);
    return 1;
  }
  if (sscanf(line, "READY %d", &server) != 1) {
    printf("mps-emu-client: the control daemon closed the connection\n");
    return 1;
  }
  printf("mps-emu-client: attached to server %d\n", server);
  /* "READY P GPU-a,GPU-b": the server's devices, numbered as CUDA numbers them for the client. */
  const char *list = strchr(line + 6, ' ');
  for (int dev = 0; list != NULL && list[1] != '\0'; ++dev) {
    const char *start = list + 1;
    list = strchr(start, ',');
    int len = list != NULL ? (int)(list - start) : (int)strlen(start);
    printf("mps-emu-client: device %d: %.*s\n", dev, len, start);
  }
  fflush(stdout);
  if (sleep_s > 0) {
    struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - (double)(time_t)sleep_s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  close(fd);
  return 0;
}
