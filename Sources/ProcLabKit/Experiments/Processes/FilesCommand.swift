/// `files`: one process's descriptors through fork, close and execve — inherited
/// numbers, one shared offset, separate closes, O_CLOEXEC at exec. `files --offset`:
/// one offset shared after fork, two after two separate opens of the same file.
///
/// Command here; the OS work in FilesExperiment.swift; lines, facts and
/// explanation in FilesReport.swift.
enum FilesCommand {
  struct Options: CommandOptions {
    var offset = false
    static var declarations: [OptionDeclaration<Self>] {
      [
        .flag(
          "--offset", \.offset,
          "writes through a descriptor shared by fork (one offset) and through two separate opens (two offsets)"
        )
      ]
    }
  }

  static let command = Command(
    name: "files", area: .processes,
    summary: "open files across fork, close and exec: inherited numbers, one shared offset, O_CLOEXEC",
    examples: ["files", "files --offset"], options: Options.self
  ) { options, session in
    options.offset
      ? FilesReport.offsets(try FilesExperiment.offsets())
      : FilesReport.timeline(try FilesExperiment.timeline())
  }
}
