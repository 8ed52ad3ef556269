// 2-thread cblas_sgemm GFLOP/s at lmkit's model shapes (M x N x K), best of 7 calls each:
// NN = A·B (forward), NT = A·Bᵀ (input gradient), TN = Aᵀ·C (weight gradient, K x N out). See ./run.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    printf("core %s threads %d\n", openblas_get_corename(), openblas_get_num_threads());
    const int shapes[][3] = {{4096, 384, 128}, {4096, 128, 384}, {4096, 128, 512}, {4096, 512, 128},
                             {4096, 1152, 384}, {4096, 384, 1536}, {4096, 1536, 384}};
    const char *names[] = {"NN", "NT", "TN"};
    for (int s = 0; s < 7; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc(4L * M * K), *B = malloc(4L * K * N), *C = malloc(4L * M * N);
        for (long i = 0; i < (long)M * K; i++) A[i] = (i % 7) * 0.1f;
        for (long i = 0; i < (long)K * N; i++) B[i] = (i % 5) * 0.1f;
        for (long i = 0; i < (long)M * N; i++) C[i] = (i % 3) * 0.1f;
        for (int v = 0; v < 3; v++) {
            double best = 1e9;
            for (int r = 0; r < 7; r++) {
                double t0 = now();
                if (v == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 0, C, N);
                else if (v == 1) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
                else cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1, A, K, C, N, 0, B, N);
                double d = now() - t0;
                if (d < best) best = d;
            }
            printf("%dx%dx%d %s %.1f GFLOP/s\n", M, N, K, names[v], 2.0 * M * N * K / best / 1e9);
        }
        free(A); free(B); free(C);
    }
    return 0;
}
