#include <pthread.h>
#include <stdio.h>

#define ITEMS 10000
#define SLOTS 8

static long buffer[SLOTS];
static int count = 0, in = 0, out = 0;
static long sum = 0;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg) {
  (void)arg;
  for (long i = 1; i <= ITEMS; i++) {
    pthread_mutex_lock(&m);
    while (count == SLOTS) pthread_cond_wait(&not_full, &m);
    buffer[in] = i;
    in = (in + 1) % SLOTS;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&m);
    while (count == 0) pthread_cond_wait(&not_empty, &m);
    sum += buffer[out];
    out = (out + 1) % SLOTS;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

int main(void) {
  pthread_t p, c;
  pthread_create(&p, NULL, producer, NULL);
  pthread_create(&c, NULL, consumer, NULL);
  pthread_join(p, NULL);
  pthread_join(c, NULL);
  printf("sum = %ld\n", sum);
  return 0;
}
