#include <cblas.h>

/* OpenBLAS (pthread build) internal, exported by libopenblas: joins its worker threads. The
   pool is started again on demand by the next multi-threaded call. Used by BLAS.stopIdleThreads. */
int blas_thread_shutdown_(void);
