// sh: the shell. Reads command lines and runs them:
//
//   cmd args...         run a program (looked up as given, then in /)
//   cmd < in > out      redirect standard input / output (> replaces the file,
//                       >> appends to it)
//   a | b | c           a pipeline
//   a ; b               one after the other
//   a &                 do not wait for it
//   cd DIR, exit        built in
//
// `sh FILE` reads the commands from FILE instead of standard input. The
// prompt "$ " is printed only when standard input is the console.

#include "user.h"
#include "fcntl.h"

#define MAXARGS 16
#define MAXCMDS 8
#define SPECIAL "|<>;&"
#define SPACE " \t\r\n"

struct cmd {
  char *argv[MAXARGS + 1];
  int argc;
  char *in;    // file for standard input, or 0
  char *out;   // file for standard output, or 0
  int append;  // out was given with >>
};

static char line[512];
static char words[1024];   // the words of the line, each NUL-terminated
static int nwords;

static void fail(const char *msg) {
  fprintf(2, "sh: %s\n", msg);
}

// Copies the word at *p into `words`; returns it (0 if there is no word).
static char *word(char **p) {
  while (**p && strchr(SPACE, **p))
    (*p)++;
  char *start = words + nwords;
  while (**p && !strchr(SPACE, **p) && !strchr(SPECIAL, **p)) {
    if (nwords >= (int)sizeof(words) - 2)
      return 0;
    words[nwords++] = *(*p)++;
  }
  if (start == words + nwords)
    return 0;
  words[nwords++] = 0;
  return start;
}

// Parses one pipeline from *p, up to ';', '&' or the end of the line.
// Returns the number of commands (0 for an empty pipeline), -1 on a syntax error;
// *end gets the character that ended it (0 at the end of the line).
static int parse_pipeline(char **p, struct cmd *cmds, char *end) {
  int n = 0;
  memset(&cmds[0], 0, sizeof(cmds[0]));
  for (;;) {
    while (**p && strchr(SPACE, **p))
      (*p)++;
    char c = **p;
    struct cmd *cur = &cmds[n];
    if (c == 0 || c == ';' || c == '&' || c == '#') {
      *end = c == '#' ? 0 : c;
      if (c != 0 && c != '#')
        (*p)++;
      if (cur->argc > 0)
        return n + 1;
      return n == 0 && !cur->in && !cur->out ? 0 : -1;
    }
    if (c == '|') {
      (*p)++;
      if (cur->argc == 0 || n + 1 >= MAXCMDS)
        return -1;
      n++;
      memset(&cmds[n], 0, sizeof(cmds[n]));
    } else if (c == '<' || c == '>') {
      (*p)++;
      if (c == '>' && **p == '>') {
        (*p)++;
        cur->append = 1;
      }
      char *file = word(p);
      if (!file)
        return -1;
      if (c == '<')
        cur->in = file;
      else
        cur->out = file;
    } else {
      char *w = word(p);
      if (!w || cur->argc >= MAXARGS)
        return -1;
      cur->argv[cur->argc++] = w;
    }
  }
}

// In a child: set up redirections and exec the command. Never returns.
static void run_command(struct cmd *c) {
  if (c->in) {
    close(0);
    if (open(c->in, O_RDONLY) != 0) {
      fprintf(2, "sh: cannot open %s\n", c->in);
      exitstatus(1);
    }
  }
  if (c->out) {
    struct stat st;
    if (!c->append && stat(c->out, &st) == 0 && st.type == T_FILE)
      unlink(c->out);   // '>' replaces the file (open has no O_TRUNC)
    close(1);
    if (open(c->out, (c->append ? O_RDWR : O_WRONLY) | O_CREATE) != 1) {
      fprintf(2, "sh: cannot create %s\n", c->out);
      exitstatus(1);
    }
    if (c->append && fstat(1, &st) == 0 && st.type == T_FILE) {
      char skip[128];   // no lseek: move the offset to the end by reading
      while (read(1, skip, sizeof(skip)) > 0)
        ;
    }
  }
  exec(c->argv[0], c->argv);
  if (!strchr(c->argv[0], '/') && strlen(c->argv[0]) < 60) {
    char path[64];
    strcpy(path, "/");
    strcat(path, c->argv[0]);
    exec(path, c->argv);
  }
  fprintf(2, "sh: exec %s failed\n", c->argv[0]);
  exitstatus(1);
}

// In a child: runs the commands of a pipeline, connected by pipes, and exits
// with the status of the last one.
static void run_pipeline(struct cmd *cmds, int n) {
  int input = -1;   // read end of the previous command's pipe
  int last = -1;
  for (int i = 0; i < n; i++) {
    int fds[2];
    if (i + 1 < n && pipe(fds) < 0) {
      fail("pipe failed");
      exitstatus(1);
    }
    int pid = fork();
    if (pid < 0) {
      fail("fork failed");
      exitstatus(1);
    }
    if (pid == 0) {
      if (input >= 0) {
        close(0);
        dup(input);
        close(input);
      }
      if (i + 1 < n) {
        close(1);
        dup(fds[1]);
        close(fds[0]);
        close(fds[1]);
      }
      run_command(&cmds[i]);
    }
    if (input >= 0)
      close(input);
    if (i + 1 < n) {
      close(fds[1]);
      input = fds[0];
    }
    last = pid;
  }
  int status = 0, st, pid;
  while ((pid = waitstatus(&st)) >= 0)
    if (pid == last)
      status = st;
  exitstatus(status);
}

static int builtin(struct cmd *c) {
  if (strcmp(c->argv[0], "cd") == 0) {
    if (chdir(c->argc > 1 ? c->argv[1] : "/") < 0)
      fprintf(2, "sh: cannot cd %s\n", c->argc > 1 ? c->argv[1] : "/");
    return 1;
  }
  if (strcmp(c->argv[0], "exit") == 0)
    exitstatus(c->argc > 1 ? atoi(c->argv[1]) : 0);
  return 0;
}

static void run_line(char *p) {
  nwords = 0;
  for (;;) {
    struct cmd cmds[MAXCMDS];
    char end = 0;
    int n = parse_pipeline(&p, cmds, &end);
    if (n < 0) {
      fail("syntax error");
      return;
    }
    if (n == 1 && !cmds[0].in && !cmds[0].out && builtin(&cmds[0])) {
      // done in the shell itself
    } else if (n > 0) {
      int pid = fork();
      if (pid < 0) {
        fail("fork failed");
        return;
      }
      if (pid == 0)
        run_pipeline(cmds, n);
      if (end == '&') {
        printf("[%d]\n", pid);
      } else {
        int r;
        while ((r = wait()) >= 0 && r != pid)
          ;   // also reaps finished background jobs
      }
    }
    if (end == 0)
      return;
  }
}

int main(int argc, char **argv) {
  if (argc > 1) {
    close(0);
    if (open(argv[1], O_RDONLY) != 0) {
      fprintf(2, "sh: cannot open %s\n", argv[1]);
      return 1;
    }
  }
  struct stat st;
  int interactive = fstat(0, &st) == 0 && st.type == T_DEV;
  for (;;) {
    if (interactive)
      fprintf(2, "$ ");
    gets(line, sizeof(line));
    if (line[0] == 0)
      break;   // end of input
    run_line(line);
  }
  return 0;
}
