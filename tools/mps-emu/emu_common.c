#define _GNU_SOURCE
#include "emu_common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return (v != NULL && v[0] != '\0') ? v : fallback;
}

const char *emu_pipe_dir(void) { return env_or("CUDA_MPS_PIPE_DIRECTORY", EMU_DEFAULT_PIPE_DIR); }
const char *emu_log_dir(void) { return env_or("CUDA_MPS_LOG_DIRECTORY", EMU_DEFAULT_LOG_DIR); }

void emu_join(char *out, const char *dir, const char *name) {
  int n = snprintf(out, EMU_PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= EMU_PATH_MAX) {
    fprintf(stderr, "mps-emu: path too long: %s/%s\n", dir, name);
    _exit(1);
  }
}

int emu_mkdir_p(const char *path, mode_t mode) {
  char buf[EMU_PATH_MAX];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1; *p != '\0'; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(buf, mode) != 0 && errno != EEXIST) return -1;
  struct stat st;
  if (stat(buf, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

void emu_log(int fd, const char *who, pid_t pid, const char *fmt, ...) {
  if (fd < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  localtime_r(&ts.tv_sec, &tm);
  char line[2048];
  int n = snprintf(line, sizeof line, "[%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %5d] ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000L, who, (int)pid);
  if (n < 0 || (size_t)n >= sizeof line) return;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  size_t total = (size_t)n + (size_t)m;
  if (total > sizeof line - 2) total = sizeof line - 2;
  line[total++] = '\n';
  (void)emu_write_all(fd, line, total);
}

int emu_connect(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int emu_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

ssize_t emu_read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    if (c == '\n') break;
    if (n + 1 < cap) buf[n++] = c;
  }
  buf[n] = '\0';
  return (ssize_t)n;
}

long long emu_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* ---------- GPUs ---------- */

static int add_gpu(struct emu_gpu *gpus, int n, int cap, long minor, const char *uuid, size_t len) {
  if (n >= cap || minor < 0 || minor > 1000000 || len == 0 || len >= EMU_UUID_MAX) return n;
  for (int i = 0; i < n; ++i)
    if (gpus[i].minor == (int)minor) return n; /* the first entry of a minor wins */
  gpus[n].minor = (int)minor;
  memcpy(gpus[n].uuid, uuid, len);
  gpus[n].uuid[len] = '\0';
  return n + 1;
}

static int by_minor(const void *a, const void *b) {
  return ((const struct emu_gpu *)a)->minor - ((const struct emu_gpu *)b)->minor;
}

int emu_node_gpus(struct emu_gpu *out, int cap) {
  struct emu_gpu table[EMU_MAX_GPUS];
  int n = 0;
  const char *inline_table = getenv("KMPS_EMU_GPUS");
  if (inline_table != NULL && inline_table[0] != '\0') {
    const char *p = inline_table;
    while (*p != '\0') {
      const char *end = strchr(p, ',');
      size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
      const char *eq = memchr(p, '=', len);
      if (eq != NULL) {
        char *num_end;
        long minor = strtol(p, &num_end, 10);
        if (num_end == eq && num_end != p) n = add_gpu(table, n, EMU_MAX_GPUS, minor, eq + 1, len - (size_t)(eq + 1 - p));
      }
      p += len;
      if (*p == ',') ++p;
    }
  } else {
    const char *path = env_or("KMPS_EMU_GPUS_FILE", "/etc/kindmps-fake-gpus");
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
      long minor;
      char uuid[EMU_UUID_MAX];
      if (sscanf(line, "%ld %95s", &minor, uuid) == 2) n = add_gpu(table, n, EMU_MAX_GPUS, minor, uuid, strlen(uuid));
    }
    fclose(f);
  }
  const char *dev_root = env_or("KMPS_EMU_DEV_ROOT", "/");
  int kept = 0;
  for (int i = 0; i < n && kept < cap; ++i) {
    char node[EMU_PATH_MAX];
    int len = snprintf(node, sizeof node, "%s%sdev/nvidia%d", dev_root,
                       dev_root[strlen(dev_root) - 1] == '/' ? "" : "/", table[i].minor);
    struct stat st;
    if (len > 0 && (size_t)len < sizeof node && stat(node, &st) == 0) out[kept++] = table[i];
  }
  qsort(out, (size_t)kept, sizeof *out, by_minor);
  return kept;
}

int emu_visible_gpus(const char *cvd, const struct emu_gpu *gpus, int n, int *out, int cap, char *bad,
                     size_t bad_cap) {
  if (bad_cap > 0) bad[0] = '\0';
  if (cvd == NULL) {
    int k = 0;
    for (int i = 0; i < n && k < cap; ++i) out[k++] = i;
    return k;
  }
  int k = 0;
  const char *p = cvd;
  while (*p != '\0' && k < cap) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    char entry[EMU_UUID_MAX];
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)p[b])) ++b;
    while (e > b && isspace((unsigned char)p[e - 1])) --e;
    size_t elen = e - b < sizeof entry - 1 ? e - b : sizeof entry - 1;
    memcpy(entry, p + b, elen);
    entry[elen] = '\0';
    int found = -1;
    if (elen > 0 && isdigit((unsigned char)entry[0])) {
      char *num_end;
      long idx = strtol(entry, &num_end, 10);
      if (*num_end == '\0' && idx < n) found = (int)idx;
    } else if (elen > 4 && strncmp(entry, "GPU-", 4) == 0) {
      for (int i = 0; i < n; ++i) {
        if (strncmp(gpus[i].uuid, entry, elen) != 0) continue;
        if (found >= 0) { /* a prefix of two GPUs names neither */
          found = -1;
          break;
        }
        found = i;
      }
    }
    for (int i = 0; i < k && found >= 0; ++i)
      if (out[i] == found) found = -1;
    if (found < 0) {
      if (bad_cap > 0) snprintf(bad, bad_cap, "%s", entry);
      break;
    }
    out[k++] = found;
    p += len;
    if (*p == ',') ++p;
  }
  return k;
}
