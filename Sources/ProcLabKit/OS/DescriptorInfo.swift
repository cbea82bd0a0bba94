/// What the kernel records about one open descriptor of a process:
/// /proc/PID/fd/N (what it refers to) and /proc/PID/fdinfo/N (the offset of its
/// open file description and its flags, close-on-exec among them).
public struct DescriptorInfo: Sendable, Equatable {
  public var fd: Int32
  /// `/tmp/proclab-files-…/notes.txt`, `pipe:[1234]`.
  public var target: String
  /// `pos:` — the file offset, shared by every descriptor of the same open file description.
  public var offset: Int
  /// O_CLOEXEC in `flags:` (octal 02000000): closed by the kernel at execve.
  public var closeOnExec: Bool

  /// Reads /proc/PID/fd/N and /proc/PID/fdinfo/N; nil when the descriptor is not open.
  public static func read(pid: Int32, fd: Int32) -> DescriptorInfo? {
    guard let target = ProcFS.descriptorTarget(pid: pid, fd: fd),
      let text = ProcFS.read("/proc/\(pid)/fdinfo/\(fd)")
    else { return nil }
    var pos = 0
    var flags = 0
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: "\t", omittingEmptySubsequences: true)
      guard parts.count == 2 else { continue }
      if parts[0] == "pos:" { pos = Int(parts[1]) ?? 0 }
      if parts[0] == "flags:" { flags = Int(parts[1], radix: 8) ?? 0 }
    }
    return DescriptorInfo(fd: fd, target: target, offset: pos, closeOnExec: flags & 0o2000000 != 0)
  }

  /// Every open descriptor of a process (/proc/PID/fd), with its fdinfo.
  public static func all(of pid: Int32) -> [Int32: DescriptorInfo] {
    var out: [Int32: DescriptorInfo] = [:]
    for fd in ProcFS.descriptors(of: pid) {
      if let info = read(pid: pid, fd: fd) { out[fd] = info }
    }
    return out
  }
}
