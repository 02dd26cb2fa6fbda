/*
 * Peak resident set of one command: fork, exec, wait4(), ru_maxrss.
 * wait4() reports the child's own peak (and that of any children it waited
 * for itself); a server the command starts detached is not waited for by it,
 * so it is not counted. /usr/bin/time would measure the same; this keeps the
 * benchmark free of that package and makes the number's origin plain.
 *
 *     maxrss -o RESULT_FILE -- COMMAND [ARGS...]
 *
 * RESULT_FILE receives "maxrss_kb=N exit=CODE"; the command's own output is left alone.
 * Exit status: 0 when the measurement was taken (whatever the command's exit), 1 otherwise.
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *result = NULL;
    struct rusage usage;
    int status, i = 1, code;
    pid_t pid;
    FILE *f;

    if (i + 1 < argc && strcmp(argv[i], "-o") == 0) {
        result = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (!result || i >= argc) {
        fprintf(stderr, "usage: maxrss -o RESULT_FILE -- COMMAND [ARGS...]\n");
        return 1;
    }
    if ((pid = fork()) < 0) {
        perror("maxrss: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[i], argv + i);
        perror("maxrss: exec");
        _exit(127);
    }
    if (wait4(pid, &status, 0, &usage) != pid) {
        perror("maxrss: wait4");
        return 1;
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!(f = fopen(result, "w"))) {
        perror("maxrss: result file");
        return 1;
    }
    /* Linux reports ru_maxrss in kilobytes. */
    fprintf(f, "maxrss_kb=%ld exit=%d\n", usage.ru_maxrss, code);
    return fclose(f) == 0 && code != 127 ? 0 : 1;
}
