// AllocationCounter.c — interposes the C allocation functions of the test
// executable to count calls while counting is on, then forwards each to
// glibc's own implementation (__libc_malloc and friends, exported by glibc
// for exactly this).
//
// Why interposing: a definition in the executable takes precedence over
// libc's for every shared library of the process (Swift's runtime, which
// allocates every class instance, array and closure box with malloc or
// aligned_alloc; OpenBLAS; Foundation), so nothing allocates past it. The
// counter is one relaxed atomic add: the other tests do not notice it.
// free needs no wrapper: glibc's free takes what __libc_malloc returns.
//
// Under a sanitizer (scripts/sanitize.sh builds with -fsanitize=address)
// nothing is interposed: the sanitizer runtime replaces malloc itself, and a
// second definition in the executable took its place and aborted ASan at
// start-up ("CHECK failed: asan_posix.cpp ... tsd_key_inited"). There
// genc_allocations_counted() is 0 and genc_allocations_stop() returns -1.

#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include "CAllocationCounter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define GENC_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GENC_SANITIZED 1
#endif

#ifdef GENC_SANITIZED

int genc_allocations_counted(void) { return 0; }
void genc_allocations_start(void) {}
long genc_allocations_stop(void) { return -1; }

#else

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static atomic_int counting;
static atomic_long allocations;

static inline void count_one(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    }
}

void *malloc(size_t size) {
    count_one();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_one();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    count_one();
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    count_one();
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return ENOMEM;
    *out = p;
    return 0;
}

void genc_allocations_start(void) {
    atomic_store(&allocations, 0);
    atomic_store(&counting, 1);
}

long genc_allocations_stop(void) {
    atomic_store(&counting, 0);
    return atomic_load(&allocations);
}

int genc_allocations_counted(void) { return 1; }

#endif
