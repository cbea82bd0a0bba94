import CLab
import Glibc

/// Reading a stopped tracee's memory: the path an openat names, the argv of an
/// execve, the two descriptors pipe2 wrote back. The corresponding call is
/// `process_vm_readv(2)`, allowed to a tracer (PTRACE_MODE_ATTACH).
public enum TraceeMemory {
  /// Up to `count` bytes at `address` in `tid`'s address space; fewer if the range ends in
  /// an unmapped page, empty if nothing could be read.
  public static func bytes(_ tid: Int32, at address: UInt64, count: Int) -> [UInt8] {
    guard address != 0, count > 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: count)
    let got = buffer.withUnsafeMutableBytes { local in
      var mine = iovec(iov_base: local.baseAddress, iov_len: count)
      var theirs = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: UInt(address)), iov_len: count)
      return process_vm_readv(tid, &mine, 1, &theirs, 1, 0)
    }
    if got > 0 { return Array(buffer.prefix(got)) }
    // A string near the end of a mapping: the whole range fails, so read up to the page end.
    let toPageEnd = 4096 - Int(address % 4096)
    guard toPageEnd < count else { return [] }
    return bytes(tid, at: address, count: toPageEnd)
  }

  /// A NUL-terminated string of at most `limit` bytes; nil if unreadable.
  public static func string(_ tid: Int32, at address: UInt64, limit: Int = 256) -> String? {
    guard address != 0 else { return nil }
    let raw = bytes(tid, at: address, count: limit)
    if raw.isEmpty { return nil }
    let text = raw.prefix { $0 != 0 }
    let shown = String(decoding: text, as: UTF8.self)
    return text.count == raw.count ? shown + "…" : shown
  }

  /// `count` 64-bit words (pointers, clone_args fields).
  public static func words(_ tid: Int32, at address: UInt64, count: Int) -> [UInt64] {
    let raw = bytes(tid, at: address, count: count * 8)
    return raw.withUnsafeBytes { b in
      stride(from: 0, to: raw.count - 7, by: 8).map { b.loadUnaligned(fromByteOffset: $0, as: UInt64.self) }
    }
  }

  /// `count` 32-bit integers (pipe2's two descriptors).
  public static func int32s(_ tid: Int32, at address: UInt64, count: Int) -> [Int32] {
    let raw = bytes(tid, at: address, count: count * 4)
    return raw.withUnsafeBytes { b in
      stride(from: 0, to: raw.count - 3, by: 4).map { b.loadUnaligned(fromByteOffset: $0, as: Int32.self) }
    }
  }

  /// A NULL-terminated array of strings (execve's argv), at most `limit` of them.
  public static func stringArray(_ tid: Int32, at address: UInt64, limit: Int = 16) -> [String] {
    var out: [String] = []
    for pointer in words(tid, at: address, count: limit + 1) {
      if pointer == 0 || out.count >= limit { break }
      out.append(string(tid, at: pointer, limit: 128) ?? "?")
    }
    return out
  }
}
