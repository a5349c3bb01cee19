/*
 * The one binary of the scratch-like stand-in (distroless): no shell, no
 * libc outside this static executable.
 *
 *   hello                  prints "uid=U gid=G"
 *   hello --stat PATH...   prints "PATH uid=U gid=G mode=0NNN" for each path
 *   hello --touch PATH...  creates/appends each file, prints "ok PATH"
 *   hello ARG...           prints "uid=U gid=G" then each ARG on its own line
 *
 * Exit status 1 if a --stat/--touch path fails (the error is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int status = 0;
  if (argc > 1 && strcmp(argv[1], "--stat") == 0) {
    for (int i = 2; i < argc; i++) {
      struct stat st;
      if (stat(argv[i], &st) != 0) {
        printf("%s error=%s\n", argv[i], strerror(errno));
        status = 1;
      } else {
        printf("%s uid=%u gid=%u mode=0%o\n", argv[i], (unsigned)st.st_uid, (unsigned)st.st_gid,
               (unsigned)(st.st_mode & 07777));
      }
    }
    return status;
  }
  if (argc > 1 && strcmp(argv[1], "--touch") == 0) {
    for (int i = 2; i < argc; i++) {
      int fd = open(argv[i], O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd < 0) {
        printf("%s error=%s\n", argv[i], strerror(errno));
        status = 1;
      } else {
        close(fd);
        printf("ok %s\n", argv[i]);
      }
    }
    return status;
  }
  printf("uid=%u gid=%u\n", (unsigned)getuid(), (unsigned)getgid());
  for (int i = 1; i < argc; i++) printf("%s\n", argv[i]);
  return 0;
}
