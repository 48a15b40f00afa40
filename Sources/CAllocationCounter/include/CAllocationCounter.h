// CAllocationCounter — counts heap allocations made by any thread of the
// process between start and stop. Linked into genc (for genc bench), the
// kernel tests and the CLI tests.
#ifndef GENC_ALLOCATION_COUNTER_H
#define GENC_ALLOCATION_COUNTER_H

/// 1 where allocations are counted; 0 in a sanitizer build, whose runtime
/// owns malloc (nothing is interposed there).
int genc_allocations_counted(void);
/// Zeroes the count and starts counting.
void genc_allocations_start(void);
/// Stops counting and returns the allocations made since the start (-1 where
/// allocations are not counted).
long genc_allocations_stop(void);

#endif
