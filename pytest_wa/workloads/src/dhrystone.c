/*
 * pytest-wa's Dhrystone: the integer benchmark of R. P. Weicker (version 2.1),
 * written for pytest-wa, run by one or more POSIX threads.
 *
 * One "pass" is the classic mix of record assignment through pointers, string
 * copies and comparisons, enumerations, array indexing and small procedure
 * calls.  Each thread keeps its own copy of the benchmark's global state
 * (thread-local storage), so threads never share a cache line while they run.
 * The procedures of the benchmark's second compilation unit are kept out of
 * line (noinline), as compiling them separately would.
 *
 * Usage: dhrystone (-l MLOOPS | -r SECONDS) [-t THREADS] [-d DELAY]
 *   -l MLOOPS   run MLOOPS million passes in all, shared between the threads
 *   -r SECONDS  run each thread until SECONDS have passed (the last thread to
 *               start runs SECONDS - (THREADS-1) * DELAY, so all stop together)
 *   -t THREADS  threads to run (default 1)
 *   -d DELAY    seconds between starting one thread and the next
 *
 * The command line and the result lines are those WA3's dhrystone workload
 * runs and reads, so either program can serve either tool.  A thread's rate
 * is its passes over the CPU time the thread used (as Dhrystone has always
 * been timed); DMIPS is that rate over 1757, the rate of the VAX 11/780.
 * After every batch of passes the benchmark's state is checked against the
 * values Dhrystone defines: a compiler that skipped work fails the run.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VAX_780_PASSES_PER_SECOND 1757.0
#define PASSES_PER_BATCH 16384L
#define OUT_OF_LINE __attribute__((noinline))

typedef enum { IDENT_1, IDENT_2, IDENT_3, IDENT_4, IDENT_5 } ident;
typedef char text30[31];

struct record {
    struct record *ptr_comp;
    ident discr;
    union {
        struct { ident enum_comp; int int_comp; text30 str_comp; } v1;
        struct { ident enum_comp_2; text30 str_comp_2; } v2;
        struct { char ch_1_comp; char ch_2_comp; } v3;
    } variant;
};

/* The benchmark's globals, one set per thread. */
static __thread struct record *ptr_glob;
static __thread struct record *next_ptr_glob;
static __thread int int_glob;
static __thread int bool_glob;
static __thread char ch_1_glob;
static __thread char ch_2_glob;
static __thread int arr_1_glob[50];
static __thread int arr_2_glob[50][50];

/* What the main loop's locals hold after a batch. */
struct locals {
    int int_1, int_2, int_3;
    ident enum_loc;
    text30 str_1, str_2;
};

/* --- the second unit: called, never inlined --------------------------------- */

OUT_OF_LINE static int func_3(ident value)
{
    ident local = value;
    return local == IDENT_3;
}

OUT_OF_LINE static void proc_6(ident value, ident *result)
{
    *result = value;
    if (!func_3(value))
        *result = IDENT_4;
    switch (value) {
    case IDENT_1: *result = IDENT_1; break;
    case IDENT_2: *result = int_glob > 100 ? IDENT_1 : IDENT_4; break;
    case IDENT_3: *result = IDENT_2; break;
    case IDENT_4: break;
    case IDENT_5: *result = IDENT_3; break;
    }
}

OUT_OF_LINE static void proc_7(int first, int second, int *result)
{
    int local = first + 2;
    *result = second + local;
}

OUT_OF_LINE static void proc_8(int arr_1[50], int arr_2[50][50], int first, int second)
{
    int at = first + 5;
    arr_1[at] = second;
    arr_1[at + 1] = arr_1[at];
    arr_1[at + 30] = at;
    for (int column = at; column <= at + 1; ++column)
        arr_2[at][column] = at;
    arr_2[at][at - 1] += 1;
    arr_2[at + 20][at] = arr_1[at];
    int_glob = 5;
}

OUT_OF_LINE static ident func_1(char first, char second)
{
    char local_1 = first;
    char local_2 = local_1;
    if (local_2 != second)
        return IDENT_1;
    ch_1_glob = local_1;
    return IDENT_2;
}

OUT_OF_LINE static int func_2(text30 first, text30 second)
{
    int at = 2;
    char ch_loc = '\0';
    while (at <= 2)
        if (func_1(first[at], second[at + 1]) == IDENT_1) {
            ch_loc = 'A';
            at += 1;
        }
    if (ch_loc >= 'W' && ch_loc < 'Z')
        at = 7;
    if (ch_loc == 'R')
        return 1;
    if (strcmp(first, second) > 0) {
        at += 7;
        int_glob = at;
        return 1;
    }
    return 0;
}

/* --- the first unit ------------------------------------------------------------ */

static void proc_3(struct record **result)
{
    if (ptr_glob != NULL)
        *result = ptr_glob->ptr_comp;
    proc_7(10, int_glob, &ptr_glob->variant.v1.int_comp);
}

static void proc_1(struct record *given)
{
    struct record *next = given->ptr_comp;
    *given->ptr_comp = *ptr_glob;
    given->variant.v1.int_comp = 5;
    next->variant.v1.int_comp = given->variant.v1.int_comp;
    next->ptr_comp = given->ptr_comp;
    proc_3(&next->ptr_comp);
    if (next->discr == IDENT_1) {
        next->variant.v1.int_comp = 6;
        proc_6(given->variant.v1.enum_comp, &next->variant.v1.enum_comp);
        next->ptr_comp = ptr_glob->ptr_comp;
        proc_7(next->variant.v1.int_comp, 10, &next->variant.v1.int_comp);
    } else {
        *given = *given->ptr_comp;
    }
}

static void proc_2(int *value)
{
    int local = *value + 10;
    ident enum_loc = IDENT_2;
    do
        if (ch_1_glob == 'A') {
            local -= 1;
            *value = local - int_glob;
            enum_loc = IDENT_1;
        }
    while (enum_loc != IDENT_1);
}

static void proc_4(void)
{
    int bool_loc = ch_1_glob == 'A';
    bool_glob = bool_loc | bool_glob;
    ch_2_glob = 'B';
}

static void proc_5(void)
{
    ch_1_glob = 'A';
    bool_glob = 0;
}

/* Passes first..first+count-1 of the main loop; the locals are left in `out`. */
static void run_passes(long first, long count, struct locals *out)
{
    int int_1 = 0, int_2 = 0, int_3 = 0;
    ident enum_loc = IDENT_1;
    text30 str_1, str_2;

    strcpy(str_1, "DHRYSTONE PROGRAM, 1'ST STRING");
    arr_2_glob[8][7] = 10;
    for (long run = first; run < first + count; ++run) {
        proc_5();
        proc_4();
        int_1 = 2;
        int_2 = 3;
        strcpy(str_2, "DHRYSTONE PROGRAM, 2'ND STRING");
        enum_loc = IDENT_2;
        bool_glob = !func_2(str_1, str_2);
        while (int_1 < int_2) {
            int_3 = 5 * int_1 - int_2;
            proc_7(int_1, int_2, &int_3);
            int_1 += 1;
        }
        proc_8(arr_1_glob, arr_2_glob, int_1, int_3);
        proc_1(ptr_glob);
        for (char ch = 'A'; ch <= ch_2_glob; ++ch)
            if (enum_loc == func_1(ch, 'C')) {
                proc_6(IDENT_1, &enum_loc);
                strcpy(str_2, "DHRYSTONE PROGRAM, 3'RD STRING");
                int_2 = (int)run;
                int_glob = (int)run;
            }
        int_2 = int_2 * int_1;
        int_1 = int_2 / int_3;
        int_2 = 7 * (int_2 - int_3) - int_1;
        proc_2(&int_1);
    }
    out->int_1 = int_1;
    out->int_2 = int_2;
    out->int_3 = int_3;
    out->enum_loc = enum_loc;
    memcpy(out->str_1, str_1, sizeof str_1);
    memcpy(out->str_2, str_2, sizeof str_2);
}

/* Whether the state after a batch of `count` passes is the one Dhrystone defines. */
static int state_is_right(const struct locals *l, long count)
{
    const struct record *g = ptr_glob, *n = next_ptr_glob;
    return int_glob == 5 && bool_glob == 1 && ch_1_glob == 'A' && ch_2_glob == 'B'
        && arr_1_glob[8] == 7 && arr_2_glob[8][7] == count + 10
        && g->discr == IDENT_1 && g->variant.v1.enum_comp == IDENT_3
        && g->variant.v1.int_comp == 17
        && strcmp(g->variant.v1.str_comp, "DHRYSTONE PROGRAM, SOME STRING") == 0
        && n->discr == IDENT_1 && n->variant.v1.enum_comp == IDENT_2
        && n->variant.v1.int_comp == 18
        && strcmp(n->variant.v1.str_comp, "DHRYSTONE PROGRAM, SOME STRING") == 0
        && l->int_1 == 5 && l->int_2 == 13 && l->int_3 == 7 && l->enum_loc == IDENT_2
        && strcmp(l->str_1, "DHRYSTONE PROGRAM, 1'ST STRING") == 0
        && strcmp(l->str_2, "DHRYSTONE PROGRAM, 2'ND STRING") == 0;
}

/* --- threads, timing and the report ------------------------------------------ */

struct worker {
    pthread_t thread;
    long passes_wanted;   /* -l: this thread's share; -r: 0 */
    double seconds;       /* -r: how long this thread runs */
    long passes_done;     /* results */
    double cpu_seconds;
    int wrong;
};

static double seconds_of(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static void set_up_globals(struct record *records)
{
    next_ptr_glob = &records[0];
    ptr_glob = &records[1];
    ptr_glob->ptr_comp = next_ptr_glob;
    ptr_glob->discr = IDENT_1;
    ptr_glob->variant.v1.enum_comp = IDENT_3;
    ptr_glob->variant.v1.int_comp = 40;
    strcpy(ptr_glob->variant.v1.str_comp, "DHRYSTONE PROGRAM, SOME STRING");
}

/* The next batch's size, or 0 when the thread is done. */
static long next_batch(const struct worker *w, double stop_at)
{
    if (w->passes_wanted > 0) {
        long left = w->passes_wanted - w->passes_done;
        return left < PASSES_PER_BATCH ? left : PASSES_PER_BATCH;
    }
    if (w->passes_done > 0 && seconds_of(CLOCK_MONOTONIC) >= stop_at)
        return 0;
    return PASSES_PER_BATCH;
}

static void *work(void *argument)
{
    struct worker *w = argument;
    struct record *records = calloc(2, sizeof *records);
    struct locals locals;
    double stop_at = seconds_of(CLOCK_MONOTONIC) + w->seconds;

    if (records == NULL) {
        w->wrong = ENOMEM;
        return NULL;
    }
    set_up_globals(records);
    double started = seconds_of(CLOCK_THREAD_CPUTIME_ID);
    for (long batch; (batch = next_batch(w, stop_at)) > 0; w->passes_done += batch) {
        run_passes(w->passes_done + 1, batch, &locals);
        if (!state_is_right(&locals, batch))
            w->wrong = 1;
    }
    w->cpu_seconds = seconds_of(CLOCK_THREAD_CPUTIME_ID) - started;
    free(records);
    return NULL;
}

static void report(int index, const struct worker *w)
{
    double seconds = w->cpu_seconds > 0 ? w->cpu_seconds : 1e-9;
    double rate = (double)w->passes_done / seconds;
    printf("\nthread %d:\n", index);
    printf("Dhrystone(2.1) time for %ld passes = %.6f\n", w->passes_done, w->cpu_seconds);
    printf("This machine benchmarks at %.0f dhrystones/second\n", rate);
    printf("                           %.0f DMIPS\n", rate / VAX_780_PASSES_PER_SECOND);
}

static int usage(const char *problem)
{
    if (problem)
        fprintf(stderr, "dhrystone: %s\n", problem);
    fprintf(problem ? stderr : stdout,
            "usage: dhrystone (-l MLOOPS | -r SECONDS) [-t THREADS] [-d DELAY]\n");
    return problem ? 1 : 0;
}

struct options { long mloops; int seconds, threads, delay; };

static const char *read_options(int argc, char **argv, struct options *o)
{
    int option;
    while ((option = getopt(argc, argv, "hl:r:t:d:")) != -1) {
        switch (option) {
        case 'l': o->mloops = atol(optarg); break;
        case 'r': o->seconds = atoi(optarg); break;
        case 't': o->threads = atoi(optarg); break;
        case 'd': o->delay = atoi(optarg); break;
        case 'h': return "";
        default: return "unknown option";
        }
    }
    if (o->mloops > 0 && o->seconds > 0)
        return "-l and -r cannot be given together";
    if (o->mloops <= 0 && o->seconds <= 0)
        return "give -l MLOOPS or -r SECONDS (a positive number)";
    if (o->threads < 1 || o->delay < 0)
        return "-t must be 1 or more and -d 0 or more";
    return NULL;
}

static int start_workers(const struct options *o, struct worker *workers)
{
    long total = o->mloops * 1000000L;
    for (int i = 0; i < o->threads; ++i) {
        struct worker *w = &workers[i];
        w->passes_wanted = o->mloops > 0 ? (total / o->threads > 0 ? total / o->threads : 1) : 0;
        w->seconds = o->seconds - (double)i * o->delay;
        if (w->seconds < 0)
            w->seconds = 0;
        if (i > 0 && o->delay > 0)
            sleep((unsigned)o->delay);
        int error = pthread_create(&w->thread, NULL, work, w);
        if (error) {
            fprintf(stderr, "dhrystone: cannot start thread %d: %s\n", i, strerror(error));
            return i;
        }
    }
    return o->threads;
}

int main(int argc, char **argv)
{
    struct options o = { 0, 0, 1, 0 };
    const char *problem = read_options(argc, argv, &o);
    if (problem)
        return usage(*problem ? problem : NULL);

    printf("duration: %d seconds\n", o.seconds);
    printf("number of threads: %d\n", o.threads);
    printf("number of loops: %ld\n", o.mloops * 1000000L);
    printf("delay between starting threads: %d seconds\n", o.delay);

    struct worker *workers = calloc((size_t)o.threads, sizeof *workers);
    if (workers == NULL)
        return usage("out of memory");
    double started = seconds_of(CLOCK_MONOTONIC);
    int running = start_workers(&o, workers);
    int failed = running < o.threads;
    for (int i = 0; i < running; ++i) {
        pthread_join(workers[i].thread, NULL);
        if (workers[i].wrong) {
            fprintf(stderr, "dhrystone: thread %d %s\n", i, workers[i].wrong == ENOMEM
                    ? "is out of memory"
                    : "ended in a state Dhrystone does not define (miscompiled?)");
            failed = 1;
        }
        report(i, &workers[i]);
    }
    printf("\nTotal dhrystone run time: %f seconds.\n", seconds_of(CLOCK_MONOTONIC) - started);
    free(workers);
    return failed ? 2 : 0;
}
