// filetest: open/read/write/close/dup/fstat semantics, the NOFILE limit, and
// creating, appending to and overwriting files.

#include "user.h"
#include "fcntl.h"
#include "fs.h"
#include "check.h"

#define NOFILE 16

static char buf[2048];

static void test_small_txt(void) {
  int fd = open("/small.txt", O_RDONLY);
  CHECK(fd >= 0, "open /small.txt");
  struct stat st;
  CHECK(fstat(fd, &st) == 0, "fstat");
  CHECK(st.type == T_FILE, "small.txt is a file");
  CHECK(st.size == 33, "small.txt has 33 bytes");
  CHECK(read(fd, buf, 10) == 10, "read 10");
  CHECK(memcmp(buf, "aaaaaaaaaa", 10) == 0, "first line");
  int fd2 = dup(fd);
  CHECK(fd2 >= 0 && fd2 != fd, "dup");
  CHECK(read(fd2, buf, 1) == 1 && buf[0] == '\n', "dup shares the offset");
  CHECK(read(fd, buf, sizeof(buf)) == 22, "rest of the file");
  CHECK(read(fd, buf, sizeof(buf)) == 0, "end of file");
  CHECK(write(fd, "x", 1) < 0, "cannot write a read-only file");
  CHECK(close(fd) == 0 && close(fd2) == 0, "close");
  CHECK(close(fd) < 0, "close twice");
  CHECK(read(fd, buf, 1) < 0, "read a closed fd");
  CHECK(read(-1, buf, 1) < 0 && read(NOFILE, buf, 1) < 0, "fds out of range");
  CHECK(open("/no/such/file", O_RDONLY) < 0, "open a missing file");
}

static void test_limits(void) {
  int fds[NOFILE];
  int n = 0;
  for (;;) {
    int fd = open("/small.txt", O_RDONLY);
    if (fd < 0)
      break;
    CHECK(n < NOFILE, "more than NOFILE descriptors");
    fds[n++] = fd;
  }
  CHECK(n == NOFILE - 3, "NOFILE descriptors in all (0, 1, 2 are taken)");
  CHECK(dup(0) < 0, "dup with no free descriptor");
  for (int i = 0; i < n; i++)
    CHECK(close(fds[i]) == 0, "close");
  int fd = open("/small.txt", O_RDONLY);
  CHECK(fd == 3, "the lowest free descriptor is reused");
  close(fd);
}

static void test_directories(void) {
  CHECK(open("/", O_WRONLY) < 0 && open("/", O_RDWR) < 0, "a directory cannot be opened for writing");
  int fd = open("/", O_RDONLY);
  CHECK(fd >= 0, "open /");
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.type == T_DIR, "/ is a directory");
  struct dirent de;
  CHECK(read(fd, &de, sizeof(de)) == sizeof(de), "read a dirent");
  CHECK(de.inum == st.ino && strcmp(de.name, ".") == 0, "first entry is .");
  int found = 0;
  while (read(fd, &de, sizeof(de)) == sizeof(de))
    if (de.inum != 0 && strncmp(de.name, "small.txt", DIRSIZ) == 0)
      found = 1;
  CHECK(found, "small.txt is listed");
  close(fd);
  CHECK(mkdir("/ftdir") == 0, "mkdir");
  CHECK(mkdir("/ftdir") < 0, "mkdir an existing name");
  CHECK(chdir("/ftdir") == 0, "chdir");
  fd = open("rel", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create with a relative path");
  close(fd);
  CHECK(stat("/ftdir/rel", &st) == 0 && st.type == T_FILE, "relative path resolved in cwd");
  CHECK(unlink("/ftdir") < 0, "unlink a non-empty directory");
  CHECK(unlink("rel") == 0, "unlink");
  CHECK(chdir("..") == 0 && unlink("ftdir") == 0, "unlink an empty directory");
  CHECK(stat("/ftdir", &st) < 0, "gone");
}

static void test_create_append_overwrite(void) {
  unlink("/ftfile");
  int fd = open("/ftfile", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create");
  CHECK(write(fd, "hello world", 11) == 11, "write");
  close(fd);
  fd = open("/ftfile", O_CREATE | O_WRONLY);
  CHECK(fd >= 0, "O_CREATE opens an existing file");
  CHECK(read(fd, buf, 1) < 0, "cannot read a write-only file");
  CHECK(write(fd, "HELLO", 5) == 5, "overwrite from offset 0");
  close(fd);
  fd = open("/ftfile", O_RDWR);
  CHECK(read(fd, buf, sizeof(buf)) == 11, "O_CREATE did not truncate");
  CHECK(memcmp(buf, "HELLO world", 11) == 0, "overwritten prefix");
  CHECK(write(fd, "!!", 2) == 2, "append at end of file");
  close(fd);
  struct stat st;
  CHECK(stat("/ftfile", &st) == 0 && st.size == 13, "grew by 2");
  // A file bigger than the direct blocks.
  fd = open("/ftbig", O_CREATE | O_RDWR);
  for (int i = 0; i < (int)sizeof(buf); i++)
    buf[i] = (char)i;
  for (int k = 0; k < 100; k++)
    CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf), "write a big file");
  close(fd);
  CHECK(stat("/ftbig", &st) == 0 && st.size == 100 * sizeof(buf), "big file size");
  fd = open("/ftbig", O_RDONLY);
  for (int k = 0; k < 100; k++) {
    CHECK(read(fd, buf, sizeof(buf)) == sizeof(buf), "read back");
    CHECK(buf[7] == 7 && buf[2047] == (char)2047, "contents");
  }
  close(fd);
  CHECK(link("/ftfile", "/ftlink") == 0, "link");
  CHECK(unlink("/ftfile") == 0, "unlink the first name");
  fd = open("/ftlink", O_RDONLY);
  CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "HELLO", 5) == 0, "data lives on under the other name");
  close(fd);
  CHECK(unlink("/ftlink") == 0 && unlink("/ftbig") == 0, "clean up");
}

int main(void) {
  test_small_txt();
  test_limits();
  test_directories();
  test_create_append_overwrite();
  printf("filetest: PASS\n");
  return 0;
}
