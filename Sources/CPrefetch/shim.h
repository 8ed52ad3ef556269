// Cache prefetch hints for Swift, which has no intrinsic for them. Header only: nothing to link.
#ifndef LMKIT_CPREFETCH_H
#define LMKIT_CPREFETCH_H

/// Asks the CPU to bring the cache line holding `p` into all cache levels, without waiting for
/// it: unlike a load, a prefetch never stalls the instructions after it, so a loop of them keeps
/// many cache misses in flight. A hint only: no effect on results, never faults.
static inline __attribute__((always_inline)) void lmkit_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
