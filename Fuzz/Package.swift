// swift-tools-version: 6.0
// libFuzzer targets for proclab's parsers. Built and run by `Fuzz/run`, never by `swift test`.
import Foundation
import PackageDescription

/// The targets define their entry point themselves (handing over to libFuzzer's driver).
let parseAsLibrary: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

/// gold fails on these binaries (an internal error in its DWARF reader); lld links them.
let lld: [LinkerSetting] = [.unsafeFlags(["-use-ld=lld"])]

/// SwiftPM names a path dependency after its directory (a clone called `proclab`, a worktree
/// called anything else), so the main package's identity is read from where this file lives.
let main = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .lastPathComponent.lowercased()

let package = Package(
  name: "proclab-fuzz",
  dependencies: [.package(path: "..")],
  targets: [
    .target(name: "FuzzSupport"),
    .executableTarget(
      name: "FuzzCommandLine", dependencies: ["FuzzSupport", .product(name: "ProcLabKit", package: main)],
      swiftSettings: parseAsLibrary, linkerSettings: lld),
    .executableTarget(
      name: "FuzzTranscript", dependencies: ["FuzzSupport", .product(name: "ProcLabKit", package: main)],
      swiftSettings: parseAsLibrary, linkerSettings: lld),
    .executableTarget(
      name: "FuzzLesson", dependencies: ["FuzzSupport", .product(name: "ProcLabKit", package: main)],
      swiftSettings: parseAsLibrary, linkerSettings: lld),
  ]
)
