// mutex: two threads each add 1 to counter ITERATIONS times, under a mutex.
#include <pthread.h>
#include <stdio.h>

#define ITERATIONS 500000

static long counter = 0;
// TODO: a pthread_mutex_t, initialised with PTHREAD_MUTEX_INITIALIZER.

static void *add(void *arg) {
  (void)arg;
  // TODO: ITERATIONS times: lock the mutex, counter++, unlock it.
  return NULL;
}

int main(void) {
  pthread_t threads[2];
  for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, add, NULL);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
