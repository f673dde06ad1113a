// struct stat, filled in by fstat() and stat().
#ifndef XK_STAT_H
#define XK_STAT_H

#define T_DIR 1   // directory
#define T_FILE 2  // regular file
#define T_DEV 3   // device (the console is major 1)

struct stat {
  short type;  // T_DIR, T_FILE or T_DEV
  int dev;     // device the file system lives on
  uint ino;    // inode number
  uint size;   // size in bytes
};

#endif
