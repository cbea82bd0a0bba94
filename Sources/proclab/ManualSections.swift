import ArgumentParser
import ProcLabKit

/// `proclab __man`: the manual's sections about the shell's own commands, in mdoc(7),
/// for `Scripts/package` to splice into the page argument-parser's `generate-manual`
/// makes from the command-line declarations. Hidden: it is for packaging, not learners.
struct ManualSections: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "__man", abstract: "Print the manual's shell-command sections (mdoc).", shouldDisplay: false)

  func run() throws {
    Output.out(ManualPage.sections())
  }
}
