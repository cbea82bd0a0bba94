import Glibc
import ProcLabKit

// A lab child: run one experiment and exit, before any shell set-up.
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == Lab.modeArgument {
  LabChild.main(arguments: Array(arguments.dropFirst(2)), entries: Catalog.labEntries)
}
// The manual's shell-command sections (mdoc) for Scripts/package; not an argument-parser
// subcommand, so neither --help, the completions nor the generated manual list it.
if arguments.count == 2 && arguments[1] == "__man" {
  Output.out(ManualPage.sections())
  ThisProcess.exit(0)
}
// What shells killed with SIGKILL left behind (their PIDs are in the names).
Leftovers.sweep()
ProcLab.mainWrappingUsage()
