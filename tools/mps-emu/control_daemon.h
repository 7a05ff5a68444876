#ifndef KMPS_MPS_EMU_CONTROL_DAEMON_H
#define KMPS_MPS_EMU_CONTROL_DAEMON_H

/* Runs the control daemon until `quit` (or SIGTERM). ready_fd (or -1) gets "OK" once the
 * sockets listen, "RUNNING" if another daemon holds the lock, else an error text; it is closed
 * afterwards. foreground: keep stdio. Returns the exit status. */
int emu_daemon_run(int ready_fd, int foreground);

#endif
