import Glibc

/// Installing a signal handler written in C. The handler itself must be C: a
/// signal can arrive anywhere, even inside the Swift runtime or malloc, and only
/// async-signal-safe code may run then. Choosing and installing it is Swift.
enum SignalHandlers {
  /// The corresponding call is `sigaction(sig, {handler, empty mask, flags}, &old)`.
  /// No SA_RESTART unless `flags` says so: a blocked read or poll wakes with EINTR.
  /// Returns the previous action, for `restore`.
  @discardableResult
  static func install(
    _ handler: @convention(c) (Int32) -> Void, for sig: Int32, flags: Int32 = 0
  ) throws -> sigaction {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = handler
    sigemptyset(&action.sa_mask)
    action.sa_flags = flags
    var old = sigaction()
    try systemCall("sigaction", onInterrupt: .retry) { sigaction(sig, &action, &old) }
    return old
  }

  /// The corresponding call is `sigaction(sig, &old, NULL)`: puts back what `install` replaced.
  static func restore(_ old: sigaction, for sig: Int32) {
    var action = old
    _ = sigaction(sig, &action, nil)  // cannot fail: the action came from the kernel
  }
}
