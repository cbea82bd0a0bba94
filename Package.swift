// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "proclab",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "proclab", targets: ["proclab"]),
    .library(name: "ProcLabKit", targets: ["ProcLabKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // GNU readline, from Debian's libreadline-dev.
    .systemLibrary(
      name: "CReadline",
      providers: [.apt(["libreadline-dev"])]
    ),
    // The C that Swift must not do itself: work between fork() and _exit(),
    // wait-status macros, volatile racy increments, signal-safe flags.
    .target(name: "CLab", linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("rt")]),
    .target(
      name: "ProcLabKit",
      dependencies: ["CLab"]
    ),
    .executableTarget(
      name: "proclab",
      dependencies: [
        "ProcLabKit",
        "CReadline",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Shared by both test targets: runs the built binary, checks /proc.
    .target(name: "TestSupport", dependencies: ["ProcLabKit"], path: "Tests/TestSupport"),
    .testTarget(name: "ProcLabKitTests", dependencies: ["ProcLabKit", "TestSupport", "proclab"]),
    .testTarget(name: "proclabTests", dependencies: ["ProcLabKit", "TestSupport", "proclab"]),
  ],
  swiftLanguageModes: [.v6]
)
