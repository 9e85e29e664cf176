/* The libcurl floor for bench/probe-cpu.sh: the least a prober on libcurl's multi interface spends
 * on the cold probes sonde's daemon makes. One thread, one multi handle; every request gets a new
 * easy handle and a new connection (CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE, DNS cache 0), at
 * most INFLIGHT at once, started at absolute deadlines (start + i / RATE) for WARMUP + SECONDS.
 *
 * The options are those Sources/SondeProbe/Transfer.swift sets for a plain `GET URL` check
 * (errors buffer, no signals, no progress meter, cookie engine on, certificate info off for http,
 * no redirects, a whole-transfer timeout, "Expect:" removed, a User-Agent), and the work it does
 * per response: a header callback that copies every line (and drops the headers of an earlier
 * response at each status line), a write callback that copies the body under a cap (8 MiB, as
 * sonde's default), then the status, HTTP version, redirect count, effective URL and the six
 * phase timings read back. What sonde does on top (a share handle per run, asserts, records,
 * scheduling, threads) is what the ratio to this floor measures.
 *
 * Usage: curl-floor [-k] [-e TEXT] URL RATE SECONDS [WARMUP [INFLIGHT]]
 *   -k       keep connections open and reuse them (no FRESH_CONNECT / FORBID_REUSE): the script
 *            uses this mode to drive blackbox_exporter's /probe at the same paced rate, as a
 *            Prometheus server scraping it over kept-alive connections would;
 *   -e TEXT  a run counts as failed unless its body contains TEXT (e.g. "probe_success 1").
 *   Measures the SECONDS after WARMUP: getrusage(RUSAGE_SELF) user + system CPU, the runs that
 *   completed in that window, and the context switches of the process, from /proc/self/task/[*]/status
 *   (voluntary_ctxt_switches, nonvoluntary_ctxt_switches summed over threads, as the script reads
 *   sonde's) and from getrusage. Prints "WINDOW-END runs=N" (runs completed since start) when the window closes, goes on probing at the
 *   same rate until SIGTERM or SIGINT (so that a tracer can attach), then drains what is in flight
 *   and prints one "FLOOR key=value ..." line. SIGUSR1 prints "MARK runs=N" (runs completed so
 *   far), for counting runs while strace is attached.
 * Exit status: 0, or 1 when a request failed (the run is still reported) or on bad arguments.
 * Only the URL given is contacted.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BODY_LIMIT (8L * 1024 * 1024)
#define MAX_INFLIGHT 64

struct buffer {
    char *data;
    size_t length, capacity;
};

struct transfer {
    CURL *easy;
    struct curl_slist *headers_out;
    char error[CURL_ERROR_SIZE + 1];
    struct buffer body, headers;
    size_t header_count;
    int over_limit;
};

static volatile sig_atomic_t stop_requested, mark_requested;
static void on_stop(int sig) { (void)sig; stop_requested = 1; }
static void on_mark(int sig) { (void)sig; mark_requested = 1; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int append(struct buffer *b, const char *data, size_t length) {
    if (b->length + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity < b->length + length) capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown) return -1;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, length);
    b->length += length;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *context) {
    struct transfer *t = context;
    size_t length = size * count;
    if (t->body.length + length > (size_t)BODY_LIMIT) {
        t->over_limit = 1;
        return 0;
    }
    return append(&t->body, data, length) == 0 ? length : 0;
}

static size_t on_header(char *data, size_t size, size_t count, void *context) {
    struct transfer *t = context;
    size_t length = size * count;
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {  /* a new response: drop the earlier one */
        t->headers.length = 0;
        t->header_count = 0;
        t->body.length = 0;
        return length;
    }
    if (memchr(data, ':', length)) {
        if (append(&t->headers, data, length) != 0) return 0;
        t->header_count++;
    }
    return length;
}

/* Context switches of this process: voluntary and involuntary, summed over /proc/self/task/[*]/status. */
static void context_switches(long long *voluntary, long long *involuntary) {
    *voluntary = *involuntary = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return;
    struct dirent *entry;
    char path[64], line[256];
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/status", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        long long v;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1) *voluntary += v;
            else if (sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1) *involuntary += v;
        }
        fclose(f);
    }
    closedir(dir);
}

struct snapshot {
    double wall, cpu;
    long long runs, proc_v, proc_iv, ru_v, ru_iv;
};

static void take(struct snapshot *s, long long runs) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    s->cpu = (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
             (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
    s->ru_v = u.ru_nvcsw;
    s->ru_iv = u.ru_nivcsw;
    context_switches(&s->proc_v, &s->proc_iv);
    s->runs = runs;
    s->wall = now_s();
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int keep = 0;
    const char *expect = NULL;
    while (argc > 1 && argv[1][0] == '-') {
        if (strcmp(argv[1], "-k") == 0) {
            keep = 1;
        } else if (strcmp(argv[1], "-e") == 0 && argc > 2) {
            expect = argv[2];
            argv++, argc--;
        } else {
            break;
        }
        argv++, argc--;
    }
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: curl-floor [-k] [-e TEXT] URL RATE SECONDS [WARMUP [INFLIGHT]]\n");
        return 1;
    }
    const char *url = argv[1];
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    double warmup = argc > 4 ? atof(argv[4]) : 2;
    int inflight_max = argc > 5 ? atoi(argv[5]) : 8;
    if (rate <= 0 || seconds <= 0 || warmup < 0 || inflight_max < 1 || inflight_max > MAX_INFLIGHT) {
        fprintf(stderr, "curl-floor: RATE and SECONDS > 0, WARMUP >= 0, 1 <= INFLIGHT <= %d\n", MAX_INFLIGHT);
        return 1;
    }
    int https = strncasecmp(url, "https:", 6) == 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_mark;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    CURLM *multi = curl_multi_init();
    if (!multi) return 1;
    struct transfer slots[MAX_INFLIGHT];
    memset(slots, 0, sizeof slots);
    int inflight = 0;

    /* Start lateness in the window (ms past the request's deadline), one per started request. */
    size_t late_cap = (size_t)(rate * seconds * 1.1) + 16, late_n = 0;
    double *late = malloc(late_cap * sizeof *late);
    if (!late) return 1;

    long long started = 0, done = 0, failed = 0, bad_status = 0, header_lines = 0;
    double start = now_s(), window_start = start + warmup, window_end = window_start + seconds;
    struct snapshot w0 = {0}, w1 = {0};
    int phase = 0; /* 0 warm-up, 1 window, 2 after the window, 3 draining */

    for (;;) {
        double now = now_s();
        if (phase == 0 && now >= window_start) { take(&w0, done); phase = 1; }
        if (phase == 1 && now >= window_end) {
            take(&w1, done);
            phase = 2;
            printf("WINDOW-END runs=%lld\n", done);
            fflush(stdout);
        }
        if (stop_requested && phase < 3) {
            if (phase < 2) take(&w1, done);  /* stopped early: report what was measured */
            phase = 3;
        }
        if (mark_requested) {
            mark_requested = 0;
            printf("MARK runs=%lld\n", done);
            fflush(stdout);
        }

        /* Start every request that is due, up to INFLIGHT at once (the rest start late). */
        while (phase < 3 && inflight < inflight_max && start + (double)started / rate <= now) {
            if (phase == 1 && late_n < late_cap) late[late_n++] = 1000 * (now - (start + (double)started / rate));
            started++;
            struct transfer *t = NULL;
            for (int i = 0; i < inflight_max; i++) if (!slots[i].easy) { t = &slots[i]; break; }
            CURL *e = curl_easy_init();
            if (!t || !e) { fprintf(stderr, "curl-floor: curl_easy_init failed\n"); return 1; }
            t->easy = e;
            t->error[0] = 0;
            t->body.length = t->headers.length = t->header_count = 0;
            t->over_limit = 0;
            t->headers_out = curl_slist_append(NULL, "Expect:");
            curl_easy_setopt(e, CURLOPT_URL, url);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(e, CURLOPT_NOPROGRESS, 1L);
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
            curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
            curl_easy_setopt(e, CURLOPT_CERTINFO, https ? 1L : 0L);
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers_out);
            curl_easy_setopt(e, CURLOPT_USERAGENT, "sonde-floor/1");
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
            curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
            if (!keep) {  /* cold every time: sonde gets this from a new share handle per run */
                curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
                curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
                curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
            }
            curl_easy_setopt(e, CURLOPT_PRIVATE, t);
            curl_multi_add_handle(multi, e);
            inflight++;
        }

        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL *e = m->easy_handle;
            struct transfer *t = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
            long status = 0, version = 0, redirects = 0;
            char *effective = NULL;
            curl_off_t phases[6] = {0};
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
            curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
            curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
            curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &phases[0]);
            curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &phases[1]);
            curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &phases[2]);
            curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &phases[3]);
            curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &phases[4]);
            curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &phases[5]);
            if (m->data.result != CURLE_OK) {
                if (failed < 3) fprintf(stderr, "curl-floor: %s: %s\n", effective ? effective : url,
                                        t->error[0] ? t->error : curl_easy_strerror(m->data.result));
                failed++;
            } else if (status != 200 || (expect && !memmem(t->body.data ? t->body.data : "", t->body.length,
                                                             expect, strlen(expect)))) {
                if (bad_status < 3) fprintf(stderr, "curl-floor: %s: status %ld%s\n", effective ? effective : url,
                                            status, expect ? " or the expected text missing" : "");
                bad_status++;
            }
            header_lines += (long long)t->header_count;
            curl_multi_remove_handle(multi, e);
            curl_easy_cleanup(e);
            curl_slist_free_all(t->headers_out);
            t->headers_out = NULL;
            t->easy = NULL;
            inflight--;
            done++;
        }

        if (phase == 3 && inflight == 0) break;
        int timeout = 1000;  /* until the next deadline (rounded up: never early), as sonde's engine */
        if (phase < 3 && inflight < inflight_max) {
            double wait = start + (double)started / rate - now_s();
            timeout = wait <= 0 ? 0 : (int)fmin(1000, ceil(wait * 1000));
        }
        if (phase == 0 || phase == 1) {  /* wake for the window's edges too */
            double edge = (phase == 0 ? window_start : window_end) - now_s();
            int edge_ms = edge <= 0 ? 0 : (int)ceil(edge * 1000);
            if (edge_ms < timeout) timeout = edge_ms;
        }
        curl_multi_poll(multi, NULL, 0, timeout, NULL);
    }

    qsort(late, late_n, sizeof *late, compare_double);
    double late_p99 = late_n ? late[(size_t)(0.99 * (double)(late_n - 1))] : 0;
    double late_max = late_n ? late[late_n - 1] : 0;
    long long runs = w1.runs - w0.runs;
    double per = runs > 0 ? 1.0 / (double)runs : 0;
    printf("FLOOR runs=%lld seconds=%.3f rate=%.1f cpu_s=%.4f cpu_ms_per_run=%.4f"
           " vcsw_per_run=%.3f ivcsw_per_run=%.3f ru_vcsw_per_run=%.3f ru_ivcsw_per_run=%.3f"
           " late_p99_ms=%.2f late_max_ms=%.2f total_runs=%lld failed=%lld bad_status=%lld headers_per_run=%.1f\n",
           runs, w1.wall - w0.wall, runs / (w1.wall - w0.wall), w1.cpu - w0.cpu, 1000 * (w1.cpu - w0.cpu) * per,
           (double)(w1.proc_v - w0.proc_v) * per, (double)(w1.proc_iv - w0.proc_iv) * per,
           (double)(w1.ru_v - w0.ru_v) * per, (double)(w1.ru_iv - w0.ru_iv) * per,
           late_p99, late_max, done, failed, bad_status, done ? (double)header_lines / (double)done : 0);
    fflush(stdout);
    for (int i = 0; i < MAX_INFLIGHT; i++) { free(slots[i].body.data); free(slots[i].headers.data); }
    free(late);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed || bad_status ? 1 : 0;
}
