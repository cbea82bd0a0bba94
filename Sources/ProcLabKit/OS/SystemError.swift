import CLab
import Glibc

/// A failed system call: which call, and the errno it set.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
  public let call: String
  public let errno: Int32

  public init(_ call: String, errno: Int32 = Glibc.errno) {
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

/// What `systemCall` does when a signal interrupts the call (EINTR: a handler ran, the call did not finish).
public enum OnInterrupt: Sendable {
  /// Try again, unless the person asked to stop (Ctrl-C, SIGTERM, SIGHUP): then throw `Interrupted`.
  /// Right for anything the learner waits on.
  case retryUnlessStopped
  /// Try again whatever was asked: reaping a child, closing, writing the last words of output
  /// (stopping half-way would leave a zombie or lose text).
  case retry
  /// Throw EINTR as a `SystemError`, for a caller that must look at the signal first.
  case fail
}

/// Runs a system call that returns -1 and sets errno on failure: the one place
/// EINTR is handled (see `OnInterrupt`), and where errno becomes a `SystemError`
/// that names the call.
///
/// ```swift
/// let fd = try systemCall("open") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
/// ```
@discardableResult
public func systemCall<T: BinaryInteger>(
  _ name: String, onInterrupt: OnInterrupt = .retryUnlessStopped, _ body: () -> T
) throws -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    let err = Glibc.errno
    if err == EINTR {
      switch onInterrupt {
      case .retry: continue
      case .retryUnlessStopped:
        if Interrupt.isRequested { throw Interrupted() }
        continue
      case .fail: break
      }
    }
    throw SystemError(name, errno: err)
  }
}

/// The older spelling: `retryOnInterrupt: false` is `.fail`, `true` is `.retryUnlessStopped`.
@discardableResult
public func systemCall<T: BinaryInteger>(
  _ name: String, retryOnInterrupt: Bool, _ body: () -> T
) throws -> T {
  try systemCall(name, onInterrupt: retryOnInterrupt ? .retryUnlessStopped : .fail, body)
}
