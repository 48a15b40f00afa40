// CAllocationCounter — counts heap allocations made by any thread of the
// test process between start and stop. Linked only into the tests.
#ifndef GENC_ALLOCATION_COUNTER_H
#define GENC_ALLOCATION_COUNTER_H

/// Zeroes the count and starts counting.
void genc_allocations_start(void);
/// Stops counting and returns the allocations made since the start.
long genc_allocations_stop(void);

#endif
