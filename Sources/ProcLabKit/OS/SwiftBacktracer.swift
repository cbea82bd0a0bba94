/// Where Swift's crash backtracer (swift-backtrace) is. A dynamically linked Swift
/// program finds it beside libswiftCore.so; proclab links the runtime statically, so it
/// has to be told (`SWIFT_BACKTRACE=…,swift-backtrace=PATH`): the toolchain's
/// libexec/swift/linux/swift-backtrace-static, found from `swift` on PATH.
public enum SwiftBacktracer {
  /// The backtracer's path, or nil if no Swift toolchain is on PATH.
  public static var path: String? {
    var candidates: [String] = []
    for tool in ["swift", "swiftc"] {
      // realpath(3): /usr/bin/swift is often a link into the toolchain's usr/bin.
      guard let found = Spawn.resolve(program: tool), let real = FileSystem.realPath(found) else { continue }
      let usr = parent(parent(real))
      for name in ["swift-backtrace-static", "swift-backtrace"] {
        candidates.append(usr + "/libexec/swift/linux/" + name)
      }
    }
    return candidates.first(where: FileSystem.isExecutable)
  }

  /// The SWIFT_BACKTRACE setting with the backtracer's path added when it is known.
  public static func setting(_ base: String) -> String {
    guard let path else { return base }
    return base + ",swift-backtrace=\(path)"
  }

  /// `/a/b/c` → `/a/b`.
  static func parent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
  }
}
