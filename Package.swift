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
    // A small C process that times fork + _exit + waitpid with CLab's own function:
    // `cost`'s "fork of a small process" row (proclab runs it from beside its binary).
    // -static-stdlib: the Swift runtime, which swiftc links into every product (C ones too),
    // is linked statically, and main.c's stubs leave all of it out: a C process of about the
    // C reference's size (Benchmarks/reference.c), not one carrying libswiftCore.so.
    .executableTarget(
      name: "proclab-forker", dependencies: ["CLab"], path: "Sources/ProcLabForker",
      linkerSettings: [.unsafeFlags(["-static-stdlib"])]
    ),
    // Shared by both test targets: runs the built binary, checks /proc.
    .target(name: "TestSupport", dependencies: ["ProcLabKit"], path: "Tests/TestSupport"),
    .testTarget(name: "ProcLabKitTests", dependencies: ["ProcLabKit", "TestSupport", "proclab", "proclab-forker"]),
    .testTarget(name: "proclabTests", dependencies: ["ProcLabKit", "TestSupport", "proclab", "proclab-forker"]),
  ],
  swiftLanguageModes: [.v6]
)
