import Foundation
import Glibc

/// Where Swift's crash backtracer (swift-backtrace) is. A dynamically linked Swift
/// program finds it beside libswiftCore.so; proclab links the runtime statically, so it
/// has to be told (`SWIFT_BACKTRACE=…,swift-backtrace=PATH`): the toolchain's
/// libexec/swift/linux/swift-backtrace-static, found from `swift` on PATH.
public enum SwiftBacktracer {
  /// The backtracer's path, or nil if no Swift toolchain is on PATH.
  public static var path: String? {
    var candidates: [String] = []
    for tool in ["swift", "swiftc"] {
      guard let found = Spawn.resolve(program: tool) else { continue }
      // realpath(3): /usr/bin/swift is often a link into the toolchain.
      let real = URL(fileURLWithPath: found).resolvingSymlinksInPath()
      let usr = real.deletingLastPathComponent().deletingLastPathComponent()
      for name in ["swift-backtrace-static", "swift-backtrace"] {
        candidates.append(usr.appendingPathComponent("libexec/swift/linux/\(name)").path)
      }
    }
    return candidates.first { access($0, X_OK) == 0 }
  }

  /// The SWIFT_BACKTRACE setting with the backtracer's path added when it is known.
  public static func setting(_ base: String) -> String {
    guard let path else { return base }
    return base + ",swift-backtrace=\(path)"
  }
}
