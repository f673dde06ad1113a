// writers: many processes append records to one file through a shared
// descriptor (one offset); every record must arrive whole and none be lost.

#include "user.h"
#include "fcntl.h"
#include "check.h"

#define NPROCS 8
#define NRECORDS 20
#define RECSIZE 64

int main(void) {
  unlink("/writers.out");
  int fd = open("/writers.out", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "create");
  for (int p = 0; p < NPROCS; p++) {
    int pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      char rec[RECSIZE];
      for (int r = 0; r < NRECORDS; r++) {
        memset(rec, 'a' + p, RECSIZE);
        rec[RECSIZE - 1] = '\n';
        if (write(fd, rec, RECSIZE) != RECSIZE)
          exitstatus(1);
      }
      exitstatus(0);
    }
  }
  for (int p = 0; p < NPROCS; p++) {
    int status;
    CHECK(waitstatus(&status) > 0 && status == 0, "writer succeeded");
  }
  close(fd);
  struct stat st;
  CHECK(stat("/writers.out", &st) == 0, "stat");
  CHECK(st.size == NPROCS * NRECORDS * RECSIZE, "no record lost");
  fd = open("/writers.out", O_RDONLY);
  int count[NPROCS] = {0};
  char rec[RECSIZE];
  while (read(fd, rec, RECSIZE) == RECSIZE) {
    int p = rec[0] - 'a';
    CHECK(p >= 0 && p < NPROCS, "record owner");
    for (int i = 1; i < RECSIZE - 1; i++)
      CHECK(rec[i] == rec[0], "record is whole");
    count[p]++;
  }
  for (int p = 0; p < NPROCS; p++)
    CHECK(count[p] == NRECORDS, "every writer's records");
  close(fd);
  unlink("/writers.out");
  printf("writers: PASS\n");
  return 0;
}
