import CLab
import Glibc

/// A failed system call: which call, and the errno it set.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
  public let call: String
  public let errno: Int32

  public init(_ call: String, errno: Int32 = CLab.clab_errno()) {
    self.call = call
    self.errno = errno
  }

  /// `ENOENT`, `EAGAIN`…: the name a learner finds in the man page.
  public var name: String { SystemError.name(of: errno) }
  public var message: String { String(cString: strerror(errno)) }
  public var description: String { "\(call) failed: \(name) (\(message))" }

  public static func name(of errno: Int32) -> String {
    let names: [Int32: String] = [
      EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
      E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
      ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
      ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE",
      ENOSPC: "ENOSPC", EPIPE: "EPIPE", ERANGE: "ERANGE", EDEADLK: "EDEADLK", ENOSYS: "ENOSYS",
      ETIMEDOUT: "ETIMEDOUT", EROFS: "EROFS", EMSGSIZE: "EMSGSIZE", ENAMETOOLONG: "ENAMETOOLONG",
      ENOTSUP: "ENOTSUP", ECONNREFUSED: "ECONNREFUSED", ECONNRESET: "ECONNRESET",
    ]
    return names[errno] ?? "errno \(errno)"
  }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying on
/// EINTR unless the user asked to stop (Ctrl-C), in which case `Interrupted` is thrown.
@discardableResult
public func systemCall<T: BinaryInteger>(
  _ name: String, retryOnInterrupt: Bool = true, _ body: () -> T
) throws -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    let err = CLab.clab_errno()
    if err == EINTR && retryOnInterrupt {
      if Interrupt.isRequested { throw Interrupted() }
      continue
    }
    throw SystemError(name, errno: err)
  }
}

/// The Ctrl-C flag, set by the SIGINT handler in CLab.
public enum Interrupt {
  public static var isRequested: Bool { CLab.clab_interrupt_requested() != 0 }
  public static func clear() { CLab.clab_clear_interrupt() }
  public static func request() { CLab.clab_request_interrupt() }
  /// Throws `Interrupted` if Ctrl-C was pressed: long loops call this often.
  public static func check() throws { if isRequested { throw Interrupted() } }
  /// SIGINT handler without SA_RESTART (sigaction): blocked calls return EINTR.
  public static func install() { CLab.clab_install_interrupt_handler() }
  /// SIGTERM and SIGHUP handlers (sigaction) so the shell can clean up before leaving.
  public static func installTermination() { CLab.clab_install_termination_handler() }
  public static var terminationSignal: Int32 { CLab.clab_termination_requested() }
  /// How many Ctrl-C presses arrived so far (never cleared: commands clear the flag).
  public static var count: Int { Int(CLab.clab_interrupt_count()) }
  /// While true, `clear()` leaves a raised flag raised (a replay: any Ctrl-C ends all of it).
  public static func setSticky(_ on: Bool) { CLab.clab_set_interrupt_sticky(on ? 1 : 0) }
}
