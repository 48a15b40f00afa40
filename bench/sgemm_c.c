/* sgemm_c.c — cblas_sgemm throughput, row-major C(M,N) = A(M,K) · B(K,N).
 *
 * usage: sgemm_c [M K N [REPEATS_SECONDS]]   (default 1024 1024 1024, 0.5 s)
 * Threads: OPENBLAS_NUM_THREADS; kernel: OPENBLAS_CORETYPE (both read by
 * OpenBLAS when it loads). Warms up 3 calls, then times individual calls for
 * at least the given seconds and 10 calls; prints the median and best GFLOP/s
 * (2·M·N·K flops per call) and checks one output element against a dot product. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int m = argc > 3 ? atoi(argv[1]) : 1024;
    int k = argc > 3 ? atoi(argv[2]) : 1024;
    int n = argc > 3 ? atoi(argv[3]) : 1024;
    double budget = argc > 4 ? atof(argv[4]) : 0.5;
    float *a = malloc(sizeof(float) * (size_t)m * k);
    float *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    if (!a || !b || !c) { fprintf(stderr, "out of memory\n"); return 1; }
    unsigned s = 12345u;
    for (size_t i = 0; i < (size_t)m * k; i++) { s = s * 1664525u + 1013904223u; a[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
    for (size_t i = 0; i < (size_t)k * n; i++) { s = s * 1664525u + 1013904223u; b[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }

    for (int w = 0; w < 3; w++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);

    enum { MAX_CALLS = 10000 };
    static double times[MAX_CALLS];
    int calls = 0;
    double start = seconds();
    while ((seconds() - start < budget || calls < 10) && calls < MAX_CALLS) {
        double t = seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        times[calls++] = seconds() - t;
    }
    qsort(times, (size_t)calls, sizeof(double), by_value);

    /* Spot check: C[m-1][n-1] against a dot product in double. */
    double ref = 0;
    for (int p = 0; p < k; p++) ref += (double)a[(size_t)(m - 1) * k + p] * b[(size_t)p * n + (n - 1)];
    double err = fabs(ref - c[(size_t)(m - 1) * n + (n - 1)]);

    double flops = 2.0 * m * n * k;
    printf("core=%s threads=%d m=%d k=%d n=%d calls=%d median_ms=%.3f gflops_median=%.1f gflops_best=%.1f check_err=%.2e\n",
           openblas_get_corename(), openblas_get_num_threads(), m, k, n, calls,
           times[calls / 2] * 1e3, flops / times[calls / 2] / 1e9, flops / times[0] / 1e9, err);
    free(a); free(b); free(c);
    return err < 1e-2 ? 0 : 2;
}
