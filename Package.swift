// swift-tools-version: 6.0
import Foundation
import PackageDescription

// proclab runs on Linux only: it reads /proc and makes Linux system calls through glibc
// (Sources/ProcLabKit/OS/LinuxOnly.swift stops a build anywhere else with one clear error).
// So no `platforms:` list: SwiftPM's list only sets minimum versions of Apple systems.

/// The static archives proclab names beyond what the compiler links by itself. `-lNAME` is
/// `libNAME.a` in the toolchain's `usr/lib/swift_static/linux/`.
///
/// `-static-stdlib` links the Swift runtime from there, and every `import` leaves an autolink
/// entry in the object file (`import FoundationEssentials`, in ProgressStore.swift and in
/// argument-parser, brings -lFoundationEssentials). What FoundationEssentials itself uses through
/// implementation-only imports leaves no such entry, and unlike a shared library (whose
/// DT_NEEDED names its own dependencies) an archive records none: those two are named here.
///
/// proclab imports no full `Foundation` (ProcLabKitTests/NoFoundationTests guards it), so
/// neither `Foundation`, `FoundationInternationalization`, `CoreFoundation` nor `_FoundationICU`
/// (ICU's locale, calendar and formatting data: most of what the binary used to weigh) is linked.
///
/// If the toolchain lacks one (renamed or dropped by an update), proclab is linked dynamically
/// instead of failing with "unable to find library", and Tests/ProcLabKitTests/StaticLinkingTests
/// fails naming the missing file (it also checks the built proclab loads no Swift shared library).
let foundationInternals = [
  "_FoundationCShims",  // small C helpers of FoundationEssentials (system calls, platform facts)
  "_FoundationCollections",  // the collection types swift-foundation uses inside
]

/// The static archives of the toolchain evaluating this manifest: its libPackageDescription.so is
/// mapped into this process from `…/usr/lib/swift/pm/ManifestAPI/`, beside `…/usr/lib/swift_static`.
let staticLibraryDirectory: String? = {
  guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
  for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
    guard let path = line.split(separator: " ").last, path.hasSuffix("/libPackageDescription.so"),
      let pm = path.range(of: "/swift/pm/")
    else { continue }
    return path[..<pm.lowerBound] + "/swift_static/linux"
  }
  return nil
}()

/// Static unless the toolchain is known to lack one of the archives.
let linkStatically =
  staticLibraryDirectory.map { directory in
    foundationInternals.allSatisfy { FileManager.default.fileExists(atPath: "\(directory)/lib\($0).a") }
  } ?? true

let package = Package(
  name: "proclab",
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
      // The Swift runtime and FoundationEssentials linked into the binary: proclab starts in about
      // half the time (no dynamic loading and relocating of libswiftCore and Foundation) and is a
      // smaller parent for fork (see BENCHMARKS.md).
      //
      // -use-ld=lld: the toolchain's own linker (swift.org Linux toolchains ship ld.lld). The
      // default, gold, prints glibc's link-time warning for mktemp(3), which the static
      // FoundationEssentials references for atomic writes (it then opens the name with
      // O_CREAT|O_EXCL and retries, the safe use); lld does not print glibc's link warnings.
      linkerSettings: linkStatically
        ? [.unsafeFlags(["-use-ld=lld", "-static-stdlib"] + foundationInternals.map { "-l" + $0 })] : []
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
