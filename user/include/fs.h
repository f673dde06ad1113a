// The directory entry format: reading a directory returns an array of these.
#ifndef XK_FS_H
#define XK_FS_H

#define DIRSIZ 14

struct dirent {
  ushort inum;         // 0: a free entry
  char name[DIRSIZ];   // not NUL-terminated when DIRSIZ long
};

#endif
