import Glibc

/// Whether this program was built with a sanitizer (`swift build --sanitize=address`).
public enum Sanitizers {
  /// dlsym(RTLD_DEFAULT, "__asan_init"): AddressSanitizer's runtime is linked in.
  /// ASan reserves terabytes of address space for its shadow memory, so an
  /// RLIMIT_AS cap makes every such process fail at start; lab children then
  /// rely on the CPU and task caps alone.
  public static let addressSanitizer: Bool = {
    let start = MonotonicClock.nanoseconds()
    let found = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    Trace.record("dlsym", "RTLD_DEFAULT, \"__asan_init\"", result: found ? "found" : "NULL", since: start)
    return found
  }()
}
