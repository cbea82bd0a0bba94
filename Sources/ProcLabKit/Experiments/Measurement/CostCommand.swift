import Glibc

/// `cost`: what creating (and finishing) a thread or a process costs on this
/// machine, every way measured side by side in one run; `--parent-size` shows
/// how fork's cost grows with the parent's private resident memory.
enum CostCommand {
  struct Options: CommandOptions {
    var iterations = 300
    var parentSize: ByteSize?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--iterations", \.iterations, "N", in: 10...100_000,
          "samples of each kind, timed in warm loops (with --parent-size: at most this many per size)"),
        .value(
          "--parent-size", \.parentSize, "SIZE", in: ByteSize(1 << 20)...ByteSize(1 << 30),
          "fork and posix_spawn from a parent whose private resident memory grows ×4 from 1M up to SIZE"),
      ]
    }
  }

  static let command = Command(
    name: "cost", area: .measurement,
    summary: "what creating a thread or a process costs here: thread, fork, posix_spawn, exec, side by side",
    examples: ["cost", "cost --iterations 1000", "cost --iterations 50", "cost --parent-size 256M"],
    options: Options.self
  ) { options, session in
    if let size = options.parentSize {
      return try ParentSizeReport.run(upTo: size.bytes, maxSamples: options.iterations, session: session)
    }
    let m = try CostExperiment.run(iterations: options.iterations, session: session)
    return CostReport.report(m)
  }
}
