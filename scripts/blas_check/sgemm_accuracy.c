// Largest cblas_sgemm error against a double-precision reference, relative to Σ|a·b| of the
// entry, over 5 shapes (odd sizes, K = 1) × the 4 transpose cases; every 7th row, 3rd column. See ./run.
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("core %s\n", openblas_get_corename());
    const int shapes[][3] = {{4096, 384, 128}, {333, 517, 129}, {64, 65, 1}, {1000, 1536, 384}, {17, 3, 1000}};
    double worst = 0;
    for (int s = 0; s < 5; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                float *A = malloc(4L * M * K), *B = malloc(4L * K * N), *C = malloc(4L * M * N);
                srand(s);
                for (long i = 0; i < (long)M * K; i++) A[i] = rand() / (float)RAND_MAX - 0.5f;
                for (long i = 0; i < (long)K * N; i++) B[i] = rand() / (float)RAND_MAX - 0.5f;
                int lda = ta ? M : K, ldb = tb ? K : N;
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            M, N, K, 1, A, lda, B, ldb, 0, C, N);
                for (int i = 0; i < M; i += 7)
                    for (int j = 0; j < N; j += 3) {
                        double ref = 0, mag = 0;
                        for (int k = 0; k < K; k++) {
                            double a = ta ? A[(long)k * M + i] : A[(long)i * K + k];
                            double b = tb ? B[(long)j * K + k] : B[(long)k * N + j];
                            ref += a * b;
                            mag += fabs(a * b);
                        }
                        double err = fabs(C[(long)i * N + j] - ref) / (mag + 1e-30);
                        if (err > worst) worst = err;
                    }
                free(A); free(B); free(C);
            }
    printf("worst relative error (vs sum |a*b|) %.3g\n", worst);
    return 0;
}
