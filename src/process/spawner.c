/*
 * Junction's pre-forked spawner, native version (see spawner.ts; spawner.pl is the same program in
 * Perl, used when no C compiler is available). It starts programs with posix_spawn (vfork-style:
 * no page tables copied, the environment handed to execve as it is), feeds their stdin, reads
 * their stdout/stderr and reaps them (SIGCHLD through a signalfd). Every policy — timeouts, kills
 * of the process group by the reported pid, caps — stays in ProcessRunner.
 *
 * Frames on stdin (from the server):
 *   R <id> <maxOutputBytes> <stdinLen or -1> <len>\n <len bytes: argc\0argv...\0envc\0env...\0cwd> <stdin bytes>
 *     envc -1 = inherit this process's environment; cwd "" = this process's.
 * Frames on stdout (to the server):
 *   S <id> <pid>\n                         started
 *   F <id> <len>\n <message>               could not start (nothing is running)
 *   E <id> <len>\n <bytes>                 a chunk of the child's stderr
 *   X <id> <code> <signal> <truncated> <len>\n <stdout>   done: exit code (-1 when signalled), signal number
 * On EOF of stdin, SIGTERM or SIGINT: every child's process group gets SIGKILL, then this exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DRAIN_MS 100

struct kid {
  struct kid *next;
  long id;
  pid_t pid;
  int out, err, in; /* -1 when closed */
  char *stdin_buf;
  size_t stdin_len, stdin_off;
  char *stdout_buf;
  size_t stdout_len, max;
  int truncated;
  int reaped, status;
  long long deadline;
};

static struct kid *kids;
static char *inbuf;
static size_t inlen, incap;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      _exit(1); /* the server is gone */
    }
    p += w;
    n -= (size_t)w;
  }
}

static void frame(const char *head, const char *body, size_t len) {
  write_all(head, strlen(head));
  if (len > 0) write_all(body, len);
}

static void fail(long id, const char *msg) {
  char head[64];
  snprintf(head, sizeof head, "F %ld %zu\n", id, strlen(msg));
  frame(head, msg, strlen(msg));
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void start(long id, size_t max, char *payload, size_t plen, char *stdin_data, long slen) {
  /* Split the payload into its NUL-separated fields (the last one, cwd, is not terminated). */
  size_t nf = 1;
  for (size_t i = 0; i < plen; i++)
    if (payload[i] == '\0') nf++;
  char **f = malloc(nf * sizeof *f);
  char *tmp = malloc(plen + 1);
  if (f == NULL || tmp == NULL) {
    free(f);
    free(tmp);
    fail(id, "out of memory");
    return;
  }
  memcpy(tmp, payload, plen);
  tmp[plen] = '\0';
  size_t k = 0;
  f[k++] = tmp;
  for (size_t i = 0; i < plen; i++)
    if (tmp[i] == '\0') f[k++] = tmp + i + 1;
  long argc = strtol(f[0], NULL, 10);
  if (argc < 1 || (size_t)argc + 2 > nf) {
    free(f);
    free(tmp);
    fail(id, "bad request");
    return;
  }
  char **argv = malloc(((size_t)argc + 1) * sizeof *argv);
  for (long i = 0; i < argc; i++) argv[i] = f[1 + i];
  argv[argc] = NULL;
  long envc = strtol(f[1 + argc], NULL, 10);
  char **envp = environ;
  size_t next = (size_t)(2 + argc);
  char **own_env = NULL;
  if (envc >= 0) {
    own_env = malloc(((size_t)envc + 1) * sizeof *own_env);
    for (long i = 0; i < envc && next < nf; i++) own_env[i] = f[next++];
    own_env[envc] = NULL;
    envp = own_env;
  }
  const char *cwd = next < nf ? f[next] : "";

  int o[2] = {-1, -1}, e[2] = {-1, -1}, in[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  int rc = 0;
  if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 || (slen >= 0 && pipe2(in, O_CLOEXEC) < 0)) rc = errno;
  if (rc == 0) {
    if (slen >= 0) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, e[1], 2);
    if (cwd[0] != '\0') posix_spawn_file_actions_addchdir_np(&fa, cwd);
    /* Own session and process group; default signal dispositions and mask. */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  pid_t pid = -1;
  if (rc == 0) rc = strchr(argv[0], '/') != NULL ? posix_spawn(&pid, argv[0], &fa, &at, argv, envp)
                                                : posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
  if (rc == ENOEXEC && strchr(argv[0], '/') != NULL) {
    /* As execvp does: a file that is not a binary (a script without #!) is run by /bin/sh. */
    char **sh = malloc(((size_t)argc + 2) * sizeof *sh);
    sh[0] = "/bin/sh";
    for (long i = 0; i <= argc; i++) sh[i + 1] = argv[i];
    rc = posix_spawn(&pid, "/bin/sh", &fa, &at, sh, envp);
    free(sh);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close_fd(&o[1]);
  close_fd(&e[1]);
  close_fd(&in[0]);
  if (rc != 0) {
    close_fd(&o[0]);
    close_fd(&e[0]);
    close_fd(&in[1]);
    char msg[512];
    const char *name = strerrorname_np(rc);
    snprintf(msg, sizeof msg, "spawn %s %s", argv[0], name != NULL ? name : strerror(rc));
    fail(id, msg);
  } else {
    struct kid *c = calloc(1, sizeof *c);
    c->id = id;
    c->pid = pid;
    c->out = o[0];
    c->err = e[0];
    c->in = in[1];
    c->max = max;
    nonblock(c->out);
    nonblock(c->err);
    if (c->in >= 0) {
      nonblock(c->in);
      c->stdin_len = (size_t)slen;
      c->stdin_buf = malloc(slen > 0 ? (size_t)slen : 1);
      if (slen > 0) memcpy(c->stdin_buf, stdin_data, (size_t)slen);
      if (slen == 0) close_fd(&c->in);
    }
    c->next = kids;
    kids = c;
    char head[64];
    snprintf(head, sizeof head, "S %ld %d\n", id, (int)pid);
    frame(head, NULL, 0);
  }
  free(own_env);
  free(argv);
  free(f);
  free(tmp);
}

/* Parse complete frames from inbuf. */
static void parse_frames(void) {
  size_t off = 0;
  for (;;) {
    char *nl = memchr(inbuf + off, '\n', inlen - off);
    if (nl == NULL) break;
    size_t hl = (size_t)(nl - (inbuf + off));
    if (inbuf[off] != 'R') {
      off += hl + 1;
      continue;
    }
    long id = 0, slen = -1;
    unsigned long long max = 0, len = 0;
    char head[128];
    size_t cp = hl < sizeof head - 1 ? hl : sizeof head - 1;
    memcpy(head, inbuf + off, cp);
    head[cp] = '\0';
    if (sscanf(head, "R %ld %llu %ld %llu", &id, &max, &slen, &len) != 4) {
      off += hl + 1;
      continue;
    }
    size_t need = hl + 1 + (size_t)len + (slen > 0 ? (size_t)slen : 0);
    if (inlen - off < need) break;
    char *payload = inbuf + off + hl + 1;
    start(id, (size_t)max, payload, (size_t)len, payload + len, slen);
    off += need;
  }
  memmove(inbuf, inbuf + off, inlen - off);
  inlen -= off;
}

static void finish(struct kid *c) {
  close_fd(&c->out);
  close_fd(&c->err);
  close_fd(&c->in);
  int code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
  int sig = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
  char head[128];
  snprintf(head, sizeof head, "X %ld %d %d %d %zu\n", c->id, code, sig, c->truncated, c->stdout_len);
  frame(head, c->stdout_buf, c->stdout_len);
  free(c->stdout_buf);
  free(c->stdin_buf);
}

static void reap(void) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p <= 0) return;
    for (struct kid *c = kids; c != NULL; c = c->next) {
      if (c->pid == p && !c->reaped) {
        c->reaped = 1;
        c->status = st;
        c->deadline = now_ms() + DRAIN_MS;
        break;
      }
    }
  }
}

static void shutdown_all(void) {
  for (struct kid *c = kids; c != NULL; c = c->next)
    if (!c->reaped) kill(-c->pid, SIGKILL);
  long long until = now_ms() + 2000;
  for (;;) {
    int pending = 0;
    reap();
    for (struct kid *c = kids; c != NULL; c = c->next) pending |= !c->reaped;
    if (!pending || now_ms() > until) break;
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  _exit(0);
}

static void read_kid(struct kid *c, int *fd, int is_err) {
  char buf[65536];
  for (;;) {
    ssize_t r = read(*fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) close_fd(fd);
      return;
    }
    if (r == 0) {
      close_fd(fd);
      return;
    }
    if (is_err) {
      char head[64];
      snprintf(head, sizeof head, "E %ld %zd\n", c->id, r);
      frame(head, buf, (size_t)r);
      continue;
    }
    size_t room = c->max > c->stdout_len ? c->max - c->stdout_len : 0;
    size_t keep = (size_t)r < room ? (size_t)r : room;
    if (keep < (size_t)r) c->truncated = 1;
    if (keep > 0) {
      char *nb = realloc(c->stdout_buf, c->stdout_len + keep);
      if (nb == NULL) {
        c->truncated = 1;
        continue;
      }
      c->stdout_buf = nb;
      memcpy(c->stdout_buf + c->stdout_len, buf, keep);
      c->stdout_len += keep;
    }
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  nonblock(0);
  incap = 1 << 16;
  inbuf = malloc(incap);
  struct pollfd *pfd = NULL;
  struct kid **owner = NULL;
  int *kind = NULL;
  size_t cap = 0;
  for (;;) {
    size_t n = 2;
    for (struct kid *c = kids; c != NULL; c = c->next) n += 3;
    if (n > cap) {
      cap = n * 2;
      pfd = realloc(pfd, cap * sizeof *pfd);
      owner = realloc(owner, cap * sizeof *owner);
      kind = realloc(kind, cap * sizeof *kind);
    }
    size_t m = 0;
    pfd[m] = (struct pollfd){0, POLLIN, 0};
    owner[m++] = NULL;
    pfd[m] = (struct pollfd){sfd, POLLIN, 0};
    owner[m++] = NULL;
    long long wake = -1;
    for (struct kid *c = kids; c != NULL; c = c->next) {
      if (c->out >= 0) pfd[m] = (struct pollfd){c->out, POLLIN, 0}, owner[m] = c, kind[m++] = 1;
      if (c->err >= 0) pfd[m] = (struct pollfd){c->err, POLLIN, 0}, owner[m] = c, kind[m++] = 2;
      if (c->in >= 0) pfd[m] = (struct pollfd){c->in, POLLOUT, 0}, owner[m] = c, kind[m++] = 3;
      if (c->reaped && (wake < 0 || c->deadline < wake)) wake = c->deadline;
    }
    int timeout = wake < 0 ? -1 : (int)(wake - now_ms() > 0 ? wake - now_ms() : 0);
    int r = poll(pfd, m, timeout);
    if (r < 0 && errno != EINTR) return 1;
    if (r > 0) {
      if (pfd[1].revents & POLLIN) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si)
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) shutdown_all();
      }
      for (size_t i = 2; i < m; i++) {
        if (pfd[i].revents == 0) continue;
        struct kid *c = owner[i];
        if (kind[i] == 1) read_kid(c, &c->out, 0);
        else if (kind[i] == 2) read_kid(c, &c->err, 1);
        else {
          ssize_t w = write(c->in, c->stdin_buf + c->stdin_off, c->stdin_len - c->stdin_off);
          if (w > 0) c->stdin_off += (size_t)w;
          /* Done, or EPIPE: the program does not read its stdin. */
          if (c->stdin_off >= c->stdin_len || (w < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&c->in);
        }
      }
      if (pfd[0].revents) {
        for (;;) {
          if (incap - inlen < 65536) {
            incap *= 2;
            inbuf = realloc(inbuf, incap);
          }
          ssize_t got = read(0, inbuf + inlen, incap - inlen);
          if (got == 0) shutdown_all();
          if (got < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) shutdown_all();
            break;
          }
          inlen += (size_t)got;
        }
        parse_frames();
      }
    }
    reap();
    long long t = now_ms();
    struct kid **pp = &kids;
    while (*pp != NULL) {
      struct kid *c = *pp;
      if (c->reaped && ((c->out < 0 && c->err < 0) || t >= c->deadline)) {
        *pp = c->next;
        finish(c);
        free(c);
      } else pp = &c->next;
    }
  }
}
