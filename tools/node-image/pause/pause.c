/* The Pod sandbox's pause process (registry.k8s.io/pause under kubeadm's name): holds the Pod's
 * namespaces, reaps zombies as PID 1, exits on SIGINT or SIGTERM. Built static for the image. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { _exit(sig == SIGINT || sig == SIGTERM ? 0 : 2); }

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("kindmps pause 1.0");
    return 0;
  }
  if (getpid() != 1) fputs("pause: warning: not PID 1, zombies are not reaped\n", stderr);
  struct sigaction term = {.sa_handler = on_term};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGINT, &term, NULL) < 0 || sigaction(SIGTERM, &term, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
