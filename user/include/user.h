// The xk user-space interface: system calls (stubs in usys.S) and the small
// C library in user/lib.
#ifndef XK_USER_H
#define XK_USER_H

#include "types.h"
#include "stat.h"

// Machine statistics returned by sysinfo().
struct sys_info {
  int pages_in_use;     // physical pages allocated
  int pages_in_swap;    // always 0: xk does not swap
  int free_pages;       // physical pages free
  int num_page_faults;  // page faults handled so far
  int num_disk_reads;   // disk block reads so far
};

// ---- system calls (results are -1 on error)
int fork(void);
// exit and wait are XK's, exactly: no arguments (docs/xk-compat.md).
void exit(void) __attribute__((noreturn));   // exit status 0
int wait(void);                // reaps one child: its pid, -1 without children
// xk's status-returning forms (system calls 36 and 37):
void exitstatus(int status) __attribute__((noreturn));
// waitstatus: wait(), and if status is not 0 the child's exit status is stored there.
int waitstatus(int *status);
int pipe(int *fds);            // fds[0] read end, fds[1] write end
int write(int fd, const void *buf, int n);
int read(int fd, void *buf, int n);
int close(int fd);
int kill(int pid);
int exec(char *path, char **argv);
int open(const char *path, int flags);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);
int fstat(int fd, struct stat *st);
int link(const char *oldpath, const char *newpath);
int mkdir(const char *path);
int chdir(const char *path);
int dup(int fd);
int getpid(void);
char *sbrk(int n);             // grows (or shrinks) the heap; returns the old break
int sleep(int ticks);
int uptime(void);              // timer ticks since boot
int sysinfo(struct sys_info *info);
// crashn: the disk loses power after n more block writes (for testing the
// file system's crash recovery); the machine stops when it happens.
int crashn(int n);

// ---- ulib.c
int stat(const char *path, struct stat *st);
char *gets(char *buf, int max);

// ---- string.c
int strlen(const char *s);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, int n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, int n);
char *strchr(const char *s, int c);
char *strcat(char *dst, const char *src);
void *memset(void *dst, int c, unsigned long n);
void *memmove(void *dst, const void *src, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);
int atoi(const char *s);

// ---- printf.c: %d %u %x %p %s %c %%, with l/ll for long (%ld %lu %lx)
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- malloc.c
void *malloc(uint n);
void free(void *p);

#endif
