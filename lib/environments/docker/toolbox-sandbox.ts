/** The C source of `lf-sandbox` (see the comment inside), compiled when the toolbox is built. */
export const SANDBOX_C = String.raw`
/*
 * lf-sandbox PROGRAM [ARGS...]: runs PROGRAM as the learner, without CAP_SETPCAP.
 *
 * Everything a learner can start (terminals, and setup/solve/cleanup scripts, which start
 * the daemons learners log in through) goes through this program; check scripts do not.
 * The kernel lets a process ptrace another, or read its /proc/PID/environ and fds, only if
 * its own permitted capabilities include all of the target's (security/commoncap.c,
 * cap_ptrace_access_check). Dropping one capability from the bounding set is irreversible
 * for this process and everything it starts, setuid binaries included, so no learner
 * process can ever trace, read or steer a running check. Static, so /etc/ld.so.preload and
 * a replaced libc in the host cannot touch it.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: lf-sandbox PROGRAM [ARGS...]\n", stderr);
    return 2;
  }
  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &head, data) != 0) {
    perror("lf-sandbox: capget");
    return 126;
  }
  const unsigned bit = 1u << (CAP_SETPCAP % 32);
  /* Already without it (a learner running us again): nothing to drop. */
  if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) != 0) {
    /* A non-root user has no CAP_SETPCAP to drop it with, nor any way to get it back while
       no_new_privs holds (setuid binaries do not raise it): as good as dropped. */
    int harmless = errno == EPERM && !(data[CAP_SETPCAP / 32].permitted & bit) && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    if (!harmless) {
      perror("lf-sandbox: dropping CAP_SETPCAP from the bounding set");
      return 126;
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  data[CAP_SETPCAP / 32].effective &= ~bit;
  data[CAP_SETPCAP / 32].permitted &= ~bit;
  data[CAP_SETPCAP / 32].inheritable &= ~bit;
  if (syscall(SYS_capset, &head, data) != 0) {
    perror("lf-sandbox: capset");
    return 126;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "lf-sandbox: cannot run %s: %s\n", argv[1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
`;
