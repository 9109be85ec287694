/*
 * pytest-wa's memcpy benchmark: copy one buffer into another LOOPS times and
 * report how long that took and the bandwidth it makes, in MB/s (10^6 bytes).
 *
 * Usage: memcpy [-i LOOPS] [-s BUFFER_SIZE] [-c CPU]...
 *   -i LOOPS        copies to make (default 1000)
 *   -s BUFFER_SIZE  bytes per copy (default 5 MiB)
 *   -c CPU          run only on this CPU (repeat for more); default: any
 *
 * The command line and the two result lines ("Total time: ... s",
 * "Bandwidth: ... MB/s") are those WA3's memcpy workload runs and reads, so
 * either program can serve either tool.  Both buffers are written before the
 * clock starts, so page faults and the kernel's zero page are not measured,
 * and memcpy is called through a volatile pointer, so the compiler cannot drop
 * copies whose result nobody reads.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LOOPS 1000L
#define DEFAULT_BUFFER_SIZE (5L * 1024 * 1024)

static void *(*volatile copy)(void *, const void *, size_t) = memcpy;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "memcpy: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    return 1;
}

struct options { long loops; long size; cpu_set_t cpus; int pinned; };

static const char *read_options(int argc, char **argv, struct options *o)
{
    int option;
    while ((option = getopt(argc, argv, "i:s:c:")) != -1) {
        switch (option) {
        case 'i': o->loops = atol(optarg); break;
        case 's': o->size = atol(optarg); break;
        case 'c': {
            int cpu = atoi(optarg);
            if (cpu < 0 || cpu >= CPU_SETSIZE)
                return "-c: no such CPU";
            CPU_SET(cpu, &o->cpus);
            o->pinned = 1;
            break;
        }
        default: return "usage: memcpy [-i LOOPS] [-s BUFFER_SIZE] [-c CPU]...";
        }
    }
    if (o->loops < 1 || o->size < 1)
        return "-i and -s must be 1 or more";
    return NULL;
}

int main(int argc, char **argv)
{
    struct options o = { DEFAULT_LOOPS, DEFAULT_BUFFER_SIZE, { { 0 } }, 0 };
    const char *problem = read_options(argc, argv, &o);
    if (problem)
        return fail(problem, NULL);
    if (o.pinned && sched_setaffinity(0, sizeof o.cpus, &o.cpus) != 0)
        return fail("cannot run on the CPUs given with -c", strerror(errno));

    char *source = malloc((size_t)o.size), *destination = malloc((size_t)o.size);
    if (source == NULL || destination == NULL)
        return fail("cannot allocate the buffers", strerror(ENOMEM));
    memset(source, 0x5a, (size_t)o.size);
    memset(destination, 0, (size_t)o.size);

    double started = now();
    for (long i = 0; i < o.loops; ++i)
        copy(destination, source, (size_t)o.size);
    double seconds = now() - started;

    if (destination[o.size - 1] != 0x5a)
        return fail("the copy is wrong", NULL);
    if (seconds <= 0)
        seconds = 1e-9;
    printf("buffer size: %ld bytes\n", o.size);
    printf("loops: %ld\n", o.loops);
    printf("Total time: %f s\n", seconds);
    printf("Bandwidth: %f MB/s\n", (double)o.size * (double)o.loops / seconds / 1e6);
    free(source);
    free(destination);
    return 0;
}
