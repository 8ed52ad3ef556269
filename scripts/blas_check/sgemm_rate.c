// 2-thread cblas_sgemm GFLOP/s at lmkit model shapes (M x N x K), NN / NT / TN, best of 7. See ./run.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
char* openblas_get_corename(void);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  printf("core %s threads %d\n", openblas_get_corename(), openblas_get_num_threads());
  int shapes[][3]={{4096,384,128},{4096,128,384},{4096,128,512},{4096,512,128},{4096,1152,384},{4096,384,1536},{4096,1536,384}};
  for(int s=0;s<7;s++){int M=shapes[s][0],N=shapes[s][1],K=shapes[s][2];
    float*A=malloc(4L*M*K),*B=malloc(4L*K*N),*C=malloc(4L*M*N);
    for(long i=0;i<(long)M*K;i++)A[i]=(i%7)*0.1f; for(long i=0;i<(long)K*N;i++)B[i]=(i%5)*0.1f;
    for(int t=0;t<3;t++){ // NN, NT, TN
      double best=1e9; for(int r=0;r<7;r++){double t0=now();
        if(t==0) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,M,N,K,1,A,K,B,N,0,C,N);
        else if(t==1) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,A,K,B,K,0,C,N);
        else cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,K,N,M,1,A,K,C,N,0,B,N);
        double d=now()-t0; if(d<best)best=d;}
      printf("%dx%dx%d %s %.1f GF/s\n",M,N,K,t==0?"NN":t==1?"NT":"TN",2.0*M*N*K/best/1e9);}
    free(A);free(B);free(C);}
}
