// bounded-buffer: a producer puts 1..ITEMS into a ring of SLOTS slots; a
// consumer adds them up. One mutex, two condition variables.
#include <pthread.h>
#include <stdio.h>

#define ITEMS 10000
#define SLOTS 8

static long buffer[SLOTS];
static int count = 0, in = 0, out = 0;
static long sum = 0;
// TODO: a mutex and two condition variables (not_full, not_empty).

static void *producer(void *arg) {
  (void)arg;
  // TODO: for i in 1..ITEMS: wait while full, buffer[in] = i, advance in, count++, signal not_empty.
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  // TODO: ITEMS times: wait while empty, take buffer[out], advance out, count--, signal not_full, add to sum.
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
