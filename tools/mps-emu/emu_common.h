/* Shared helpers of the MPS emulator (a test stand-in, not product code). */
#ifndef KMPS_MPS_EMU_COMMON_H
#define KMPS_MPS_EMU_COMMON_H

#include <stddef.h>
#include <sys/types.h>

#define EMU_CONTROL_NAME "nvidia-cuda-mps-control"
#define EMU_SERVER_NAME "nvidia-cuda-mps-server"
#define EMU_DEFAULT_PIPE_DIR "/tmp/nvidia-mps"
#define EMU_DEFAULT_LOG_DIR "/var/log/nvidia-mps"
#define EMU_BINARY_VERSION "13000"
#define EMU_PATH_MAX 4096

/* Messages the control tool prints, as the real one does. */
#define EMU_MSG_NO_DAEMON "Cannot find MPS control daemon process"
#define EMU_MSG_RUNNING "An instance of this daemon is already running"
#define EMU_MSG_REFUSED "Cannot send command to MPS control daemon process"
/* The real daemon's refusals of a user who may not change it (H200, driver 580): printf formats
 * taking the uid and the command. */
#define EMU_MSG_NO_SETTINGS \
  "Insufficient privileges for UID %d. Control deamon settings can only be modified by the user who started it or by the root user.\n"
#define EMU_MSG_NO_COMMAND "Not enough privilege to execute %s command\n"

/* Wire protocol (private to the emulator): a connection starts with one hello line,
 * "UI", "CLIENT <uid> <pid>" or "SERVER <pid> <uid>". A UI then sends one command a
 * line; each reply is text ended by one byte: EMU_REPLY_OK or EMU_REPLY_ERR. */
#define EMU_REPLY_OK '\0'
#define EMU_REPLY_ERR '\001'

/* GPUs (docs/emulators.md, "Several GPUs"). */
#define EMU_MAX_GPUS 64
#define EMU_UUID_MAX 96
/* CUDA's text for cudaErrorNoDevice (error 100), which the emulated server reports. */
#define EMU_MSG_NO_DEVICE "no CUDA-capable device is detected"

struct emu_gpu {
  int minor;                /* N of /dev/nvidiaN */
  char uuid[EMU_UUID_MAX];  /* GPU-xxxxxxxx-... */
};

/* The node's GPUs, sorted by minor: the table of $KMPS_EMU_GPUS ("0=GPU-...,1=GPU-...") or else
 * of the file $KMPS_EMU_GPUS_FILE (default /etc/kindmps-fake-gpus, "MINOR UUID" a line), keeping
 * the GPUs whose $KMPS_EMU_DEV_ROOT/dev/nvidia<minor> exists (default root "/"). Returns how many,
 * or -1 when neither names a table: the emulator then has no notion of GPUs, as before. */
int emu_node_gpus(struct emu_gpu *out, int cap);

/* CUDA_VISIBLE_DEVICES (`cvd`, NULL when unset) over the node's GPUs `gpus[0..n)`, as CUDA reads
 * it: unset, all of them; a comma-separated list of indices (into `gpus`) or GPU UUIDs (a unique
 * prefix is enough), stopping at the first entry that names no GPU (or names one twice); "" none.
 * Writes the chosen indices into `out` (cap entries) and returns how many; `bad` gets the entry
 * that stopped the list ("" when none did). */
int emu_visible_gpus(const char *cvd, const struct emu_gpu *gpus, int n, int *out, int cap, char *bad,
                     size_t bad_cap);

/* $CUDA_MPS_PIPE_DIRECTORY / $CUDA_MPS_LOG_DIRECTORY or the defaults. */
const char *emu_pipe_dir(void);
const char *emu_log_dir(void);

/* dir + "/" + name into out (EMU_PATH_MAX); exits the process if it does not fit. */
void emu_join(char *out, const char *dir, const char *name);

/* mkdir -p with the given mode for created components; 0 or -1 (errno set). */
int emu_mkdir_p(const char *path, mode_t mode);

/* Appends one "[YYYY-MM-DD HH:MM:SS.mmm <who> <pid>] <text>" line to fd (O_APPEND). */
void emu_log(int fd, const char *who, pid_t pid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Connects a unix stream socket to path; returns fd or -1 (errno set). */
int emu_connect(const char *path);

/* Writes all of buf; 0 or -1. */
int emu_write_all(int fd, const void *buf, size_t len);

/* Reads one '\n'-ended line (without the '\n') from a blocking fd, byte by byte.
 * Returns its length, or -1 on EOF/error before a newline. */
ssize_t emu_read_line(int fd, char *buf, size_t cap);

/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC). */
long long emu_now_ms(void);

#endif
