// ls [PATHS...]: lists directories (name, type, inode number, size).

#include "user.h"
#include "fcntl.h"
#include "fs.h"

static void show(const char *name, struct stat *st) {
  printf("%s", name);
  for (int i = strlen(name); i < DIRSIZ; i++)
    printf(" ");
  printf(" %d %d %d\n", st->type, st->ino, st->size);
}

static int ls(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "ls: cannot open %s\n", path);
    return 1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    fprintf(2, "ls: cannot stat %s\n", path);
    close(fd);
    return 1;
  }
  if (st.type != T_DIR) {
    show(path, &st);
    close(fd);
    return 0;
  }
  char full[128];
  if (strlen(path) + 1 + DIRSIZ + 1 > (int)sizeof(full)) {
    fprintf(2, "ls: path too long\n");
    close(fd);
    return 1;
  }
  struct dirent de;
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    char name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    strcpy(full, path);
    strcat(full, "/");
    strcat(full, name);
    struct stat est;
    if (stat(full, &est) < 0) {
      fprintf(2, "ls: cannot stat %s\n", full);
      continue;
    }
    show(name, &est);
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return ls(".");
  int status = 0;
  for (int i = 1; i < argc; i++)
    status |= ls(argv[i]);
  return status;
}
