import Foundation
import ProcLabKit
import TestSupport
import XCTest

/// Package.swift links FoundationEssentials' internal archives into proclab by name
/// (`foundationInternals`: `_FoundationCShims`, `_FoundationCollections`; full Foundation,
/// CoreFoundation and ICU are no longer linked, see NoFoundationTests): a toolchain that drops
/// or renames one would fail the link with only "unable to find library". This says which file
/// is missing and where.
final class StaticLinkingTests: XCTestCase {
  /// The names listed in Package.swift's `foundationInternals`.
  func namesInPackageManifest() throws -> [String] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    let start = try XCTUnwrap(
      manifest.range(of: "let foundationInternals = ["), "Package.swift lists foundationInternals")
    let end = try XCTUnwrap(manifest.range(of: "]", range: start.upperBound..<manifest.endIndex))
    return manifest[start.upperBound..<end.lowerBound].split(separator: "\n").compactMap { line in
      let code = line.split(separator: "//", maxSplits: 1).first ?? ""
      let parts = code.split(separator: "\"")
      return parts.count >= 2 ? String(parts[1]) : nil
    }
  }

  /// The toolchain running these tests: where its libswiftCore.so is mapped into this process,
  /// `…/usr/lib/swift/linux`, beside which `…/usr/lib/swift_static/linux` holds the archives.
  func staticLibraryDirectory() throws -> String {
    // ProcFS.read reads to the end; a /proc file reports size 0, which some readers take at its word.
    let maps = try XCTUnwrap(ProcFS.read("/proc/self/maps"))
    let core = try XCTUnwrap(
      maps.split(separator: "\n").lazy.compactMap { $0.split(separator: " ").last }
        .first { $0.hasSuffix("/libswiftCore.so") }, "libswiftCore.so is mapped into the test process")
    let dynamic = URL(fileURLWithPath: String(core)).deletingLastPathComponent()  // usr/lib/swift/linux
    return dynamic.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("swift_static/linux").path
  }

  func testEveryStaticLibraryPackageSwiftNamesIsInTheToolchain() throws {
    let names = try namesInPackageManifest()
    XCTAssertEqual(
      Set(names), ["_FoundationCShims", "_FoundationCollections"],
      "the list was read from Package.swift: FoundationEssentials' two internal archives, no more")
    let directory = try staticLibraryDirectory()
    for name in names {
      let file = "\(directory)/lib\(name).a"
      XCTAssertTrue(
        FileManager.default.fileExists(atPath: file),
        "Package.swift links -l\(name) statically, but this toolchain has no \(file): it was renamed or "
          + "dropped. Look in \(directory) for its new name and update foundationInternals in Package.swift.")
    }
  }

  func testTheBuiltBinaryNeedsNoSwiftSharedLibrary() {
    // LD_TRACE_LOADED_OBJECTS: the dynamic loader lists what it would load and stops (what ldd does).
    let run = ProcLabBinary.run([], environment: ["LD_TRACE_LOADED_OBJECTS": "1"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stdout.contains("libc.so.6"), "the loader listed the libraries: \(run.stdout)")
    for swiftLibrary in [
      "libswiftCore", "libFoundation", "libdispatch", "libBlocksRuntime", "lib_Foundation",
    ] {
      XCTAssertFalse(
        run.stdout.contains(swiftLibrary),
        "proclab loads \(swiftLibrary) at start: it was linked dynamically, which Package.swift does when "
          + "an archive of foundationInternals is missing from the toolchain (see the test above):\n\(run.stdout)"
      )
    }
  }
}
