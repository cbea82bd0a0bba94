import Glibc

/// `orphan`: a process whose parent exits is adopted (here by a subreaper lab
/// child, so the shell itself never changes), then reaped by its new parent.
enum OrphanCommand {
  static let command = Command(
    name: "orphan", area: .processes,
    summary: "a grandchild loses its parent, is adopted by a subreaper and reaped by it",
    examples: ["orphan"]
  ) { session in try run() }

  static func run() throws -> Report {
    let run = try Lab.run("orphan", [:], timeout: .seconds(20))
    guard let res = run.result, let sub = res["subreaper"]?.intValue, let grand = res["grandchild"]?.intValue,
      let middle = res["middle"]?.intValue, let before = res["parent_before"]?.intValue,
      let after = res["parent_after"]?.intValue
    else {
      let why = run.messages.last?["error"]?.stringValue ?? run.lastOutput.last ?? "no report"
      throw UsageError("orphan: the lab child \(run.status) without a result (\(why))")
    }
    let r = Report()
    let adoptedMs = res["adopted_after_ms"]?.doubleValue ?? 0
    let reapedBy = res["reaped_by"]?.intValue
    let grandStatus =
      res["grandchild_status"]?["how"]?.stringValue == "exited"
      ? "exited \(res["grandchild_status"]?["code"]?.intValue ?? -1)" : "ended"
    let shell = Int(ThisProcess.id)
    var tree = Tree("\(r.pid(Int32(shell))) proclab (this shell)")
    tree.children = [
      Tree(
        "\(r.pid(Int32(sub))) lab child: prctl(PR_SET_CHILD_SUBREAPER)",
        [
          Tree("\(r.pid(Int32(middle))) middle parent: forked, then exited"),
          Tree("\(r.pid(Int32(grand))) grandchild: parent \(r.pid(Int32(before))) → \(r.pid(Int32(after)))"),
        ])
    ]
    r.lines(tree.lines)
    r.line(
      "grandchild \(r.pid(Int32(grand))): parent before \(r.pid(Int32(before))) (the middle parent), after \(r.pid(Int32(after))) (the subreaper), noticed \(r.number(adoptedMs, digits: 2)) ms after it started watching"
    )
    r.line(
      "reaped by \(reapedBy.map { r.pid(Int32($0)) } ?? "nobody") with wait4: \(grandStatus); the lab child \(run.status)"
    )
    r.fact("subreaper", sub)
    r.fact("middle", middle)
    r.fact("grandchild", grand)
    r.fact("parent_before", before)
    r.fact("parent_after", after)
    r.fact("adopted_after_ms", adoptedMs)
    r.fact("reaped_by", reapedBy.map { JSON.int($0) } ?? .null)
    r.fact("grandchild_status", res["grandchild_status"] ?? .null)
    r.fact("lab_status", run.status.json)

    if before == middle && after == sub {
      r.explain(
        "When \(middle) exited, its child \(grand) became an orphan; the kernel gave it a new parent — the nearest ancestor marked as a child subreaper, \(sub) — which then reaped it, so no zombie was left.",
        more:
          "Without a subreaper the orphan goes to PID 1 of its PID namespace (init), whose job includes reaping adopted children. proclab makes a lab child the subreaper, not the shell, because the setting stays until prctl clears it, and the shell would meanwhile adopt every orphaned descendant of every command."
      )
    } else {
      r.explain(
        "Surprise: the grandchild's parent went from \(before) to \(after) (expected \(middle) → \(sub)); the kernel chose another adopter."
      )
    }
    return r
  }
}
