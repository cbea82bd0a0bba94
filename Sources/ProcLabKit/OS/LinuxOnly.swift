// proclab is about Linux: /proc, clone, futexes, signals as Linux delivers them, glibc.
#if !os(Linux)
  #error("proclab runs on Linux only: it reads /proc and makes Linux system calls through glibc")
#endif
