import ProcLabKit

// A lab child: run one experiment and exit, before any shell set-up.
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == Lab.modeArgument {
  LabChild.main(arguments: Array(arguments.dropFirst(2)), entries: Catalog.labEntries)
}
// What shells killed with SIGKILL left behind (their PIDs are in the names).
Leftovers.sweep()
ProcLab.main()
