/*
 * bench/spawn: run one client and measure that process alone.
 *
 *     bench/spawn RESULT_FILE PROGRAM [ARG...]
 *
 * Writes {"status", "wall_ms", "cpu_ms", "maxrss_kib"} to RESULT_FILE: the
 * exit status (128 + the signal when killed), wall time from fork to exit,
 * user + system CPU and peak RSS from wait4(). The runner starts clients
 * through this small program rather than forking them itself because Linux
 * keeps a process's peak RSS across exec: a child forked from the runner (a
 * Python process holding every result) would report the runner's size.
 */
#define _DEFAULT_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage ru;
    int status, code;
    pid_t pid;
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: bench/spawn RESULT_FILE PROGRAM [ARG...]\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = fork()) < 0) {
        perror("bench/spawn: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid) {
        perror("bench/spawn: wait4");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!(f = fopen(argv[1], "w"))) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "{\"status\": %d, \"wall_ms\": %.3f, \"cpu_ms\": %.3f, \"maxrss_kib\": %ld}\n", code,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
            (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
            ru.ru_maxrss);
    return fclose(f) == 0 ? 0 : 1;
}
