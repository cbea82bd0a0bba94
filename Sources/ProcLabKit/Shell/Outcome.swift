/// The result of one command: what the shell prints, what `--json` prints,
/// and what `explain`, the lesson engine and the recorder read afterwards.
public struct Outcome: Sendable {
  /// The command line as typed, after substitution.
  public var input: String
  /// The verb that ran (`spawn`), or the word that was not a command.
  public var command: String
  public var succeeded: Bool
  public var lines: [String]
  /// Tables among `lines`, for laying them out again at the terminal's width.
  public var tables: [TableBlock] = []
  public var variables: [Variable]
  /// Runs of `lines` whose order varies between runs (Report.linesInAnyOrder).
  public var unorderedRuns: [Range<Int>] = []
  public var facts: JSONObject
  /// Every option of the command with the value it ran with (defaults filled in).
  public var options = JSONObject()
  public var explanation: Explanation
  /// The system calls the command made, when tracing was on.
  public var trace: [TraceCall]
  /// What the kernel ran besides the library calls (tasks the command started), when tracing was on.
  public var kernel: KernelTraceReport?
  /// One line naming what was wrong, when the command failed.
  public var error: String?
  /// The signal that asked to stop while it ran (SIGINT for Ctrl-C, SIGTERM, SIGHUP), if one did:
  /// the rest of its `;` line is then not run.
  public var stopSignal: Int32?
  /// The commands of its line that were not run because of `stopSignal`, as typed.
  public var notRun: [String] = []

  public init(
    input: String, command: String, succeeded: Bool, lines: [String] = [], variables: [Variable] = [],
    facts: JSONObject = JSONObject(), explanation: Explanation = Explanation(), trace: [TraceCall] = [],
    error: String? = nil
  ) {
    self.input = input
    self.command = command
    self.succeeded = succeeded
    self.lines = lines
    self.variables = variables
    self.facts = facts
    self.explanation = explanation
    self.trace = trace
    self.error = error
  }

  /// The outcome as one JSON object (one line per command with `--json`).
  public var json: JSON {
    var o = JSONObject()
    o["command"] = .string(command)
    o["input"] = .string(input)
    o["ok"] = .bool(succeeded)
    if let error { o["error"] = .string(error) }
    if !options.fields.isEmpty { o["options"] = .object(options) }
    o["facts"] = .object(facts)
    o["output"] = .array(lines.map { .string(Style.stripped($0)) })
    o["explanation"] = .array((explanation.short + explanation.full).map { .string($0) })
    if !trace.isEmpty { o["trace"] = .array(trace.map(\.json)) }
    if let kernel { o["kernel_trace"] = kernel.json }
    if let stopSignal { o["stopped_by"] = .string(Signals.name(stopSignal)) }
    if !notRun.isEmpty { o["not_run"] = .array(notRun.map(JSON.string)) }
    return .object(o)
  }
}
