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
        // Built with proclab (also by `swift run proclab`): `cost` runs it from beside proclab.
        "proclab-forker",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      // The Swift runtime and Foundation linked into the binary: proclab starts in about half
      // the time (no dynamic loading and relocating of libswiftCore, Foundation, ICU) and is a
      // smaller parent for fork (see BENCHMARKS.md).
      linkerSettings: [
        .unsafeFlags([
          "-static-stdlib", "-lFoundation", "-lFoundationInternationalization", "-lFoundationEssentials",
          "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections",
          "-lswiftSynchronization", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime",
        ])
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
    // The tests run the proclab binary (and proclab-forker beside it), which `swift test` builds
    // with every product; they do not link it: proclab's static-stdlib link settings would carry
    // over to the test bundle, which needs the dynamic Foundation and XCTest.
    .testTarget(name: "ProcLabKitTests", dependencies: ["ProcLabKit", "TestSupport"]),
    .testTarget(name: "proclabTests", dependencies: ["ProcLabKit", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
