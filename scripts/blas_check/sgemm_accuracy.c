// Largest cblas_sgemm error vs a double-precision reference, relative to sum |a*b|, over 20 shape/transpose cases. See ./run.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
char* openblas_get_corename(void);
int main(){ printf("core %s\n", openblas_get_corename());
 int sh[][3]={{4096,384,128},{333,517,129},{64,65,1},{1000,1536,384},{17,3,1000}}; double worst=0;
 for(int s=0;s<5;s++) for(int ta=0;ta<2;ta++) for(int tb=0;tb<2;tb++){int M=sh[s][0],N=sh[s][1],K=sh[s][2];
  float*A=malloc(4L*M*K),*B=malloc(4L*K*N),*C=malloc(4L*M*N); srand(s);
  for(long i=0;i<(long)M*K;i++)A[i]=rand()/(float)RAND_MAX-0.5f; for(long i=0;i<(long)K*N;i++)B[i]=rand()/(float)RAND_MAX-0.5f;
  int lda=ta?M:K, ldb=tb?K:N;
  cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,lda,B,ldb,0,C,N);
  double maxrel=0; for(int i=0;i<M;i+=7)for(int j=0;j<N;j+=3){double r=0,ab=0;for(int k=0;k<K;k++){double a=ta?A[k*M+i]:A[i*K+k], b=tb?B[j*K+k]:B[k*N+j]; r+=a*b; ab+=fabs(a*b);} double e=fabs(C[i*N+j]-r)/(ab+1e-30); if(e>maxrel)maxrel=e;}
  if(maxrel>worst)worst=maxrel; free(A);free(B);free(C);}
 printf("worst rel err (vs sum|ab|) %.3g\n",worst); }
