import ProcLabKit
import XCTest

/// A step's command compared with the learner's by meaning: options in any
/// order, defaults filled in, every spelling of a signal, free options and
/// free placeholders (issue 17, item 1).
final class StepCommandTests: XCTestCase {
  /// A lesson with one step per command, as a lesson file would have them.
  func steps(_ commands: [(command: String, markup: String)]) throws -> [LessonStep] {
    var text = "---\nid: t\ntitle: T\norder: 1\n---\n"
    for (i, c) in commands.enumerated() {
      text += "\n## Step \(i)\n\n\(c.markup)\n```proclab\nproclab> \(c.command)\n...\n```\n"
      if i == 0 { text += "" }
    }
    text += "\n## Summary\n\nDone.\n"
    // References in later steps need a capture: the first step captures A.
    return try LessonParser.parse(text, file: "t.md").steps
  }

  func step(_ command: String, _ markup: String = "") throws -> LessonStep {
    try XCTUnwrap(steps([(command, markup)]).first)
  }

  func testOptionsInAnyOrderAndDefaultsSpelledOut() throws {
    let spawn = try step("spawn 2 --hold 60")
    XCTAssertTrue(spawn.accepts("spawn 2 --hold 60").fits)
    XCTAssertTrue(spawn.accepts("spawn --hold 60 2").fits)
    XCTAssertTrue(spawn.accepts("spawn --hold=60 2").fits)
    let other = spawn.accepts("spawn 2 --hold 30")
    XCTAssertFalse(other.fits)
    XCTAssertTrue(other.reason?.contains("--hold") ?? false, other.reason ?? "no reason")
    XCTAssertFalse(spawn.accepts("ps").fits)
    XCTAssertNil(spawn.accepts("ps").reason, "another verb is not an argument problem")
    // A default typed out means the same as leaving it out.
    XCTAssertTrue(try step("race --racy").accepts("race --racy --threads 2").fits)
  }

  /// Round-3 learner trial: a default that depends on the mode (or the machine) typed out
  /// means the same as leaving it out, and a real difference is said in words a learner can act on.
  func testAContextualDefaultTypedOutFitsTheStep() throws {
    let cpus = max(2, Threads.allowedCPUs().count)
    for (wanted, typed) in [
      ("semaphore --join", "semaphore --join --threads 4"), ("semaphore", "semaphore --threads 5"),
      ("semaphore --rendezvous", "semaphore --rendezvous --threads 2"),
      ("counter", "counter --threads \(cpus)"),
      ("counter --packed", "counter --packed --increments 10000000"),
      ("signal --threads", "signal USR1 --threads"), ("signal --merge", "signal --merge --count 5"),
      ("signal --handler", "signal SIGUSR1 --handler"), ("crash exit", "crash exit 1"),
      ("crash segv --in-thread", "crash segv --in-thread --threads 4"), ("thread", "thread 2"),
      ("lock", "lock --threads 3"), ("lock --impl tas", "lock --impl tas --threads 2"),
      ("shm --no-sync", "shm --no-sync --iterations 20000000"),
    ] {
      let accepted = try step(wanted).accepts(typed)
      XCTAssertTrue(accepted.fits, "\(typed) for \(wanted): \(accepted.reason ?? "")")
    }
    XCTAssertFalse(try step("semaphore --join").accepts("semaphore --join --threads 6").fits)
    let extra = try step("barrier").accepts("barrier --pthread")
    XCTAssertFalse(extra.fits)
    XCTAssertEqual(
      extra.reason.map { $0.contains("you added --pthread, which this step leaves out") }, true,
      extra.reason ?? "")
    let missing = try step("signal --threads --count 8").accepts("signal --threads")
    XCTAssertEqual(
      missing.reason.map { $0.contains("--count: yours is 3, the step's is 8") }, true, missing.reason ?? "")
  }

  func testEverySpellingOfASignal() throws {
    let text = """
      ---
      id: k
      title: K
      order: 1
      ---
      ## Start
      ```proclab
      proclab> spawn
      ...
        {{A:pid}}  {{:text}}
      ```
      ## Stop it
      ```proclab
      proclab> kill {{A}} STOP
      ...
      ```
      ## Summary
      Done.
      """
    let kill = try LessonParser.parse(text, file: "k.md").steps[1]
    var captures = Captures()
    captures["A"] = "4121"
    for spelling in ["kill 4121 STOP", "kill 4121 SIGSTOP", "kill 4121 stop", "kill 4121 19"] {
      XCTAssertTrue(kill.accepts(spelling, captures: captures).fits, spelling)
    }
    XCTAssertFalse(kill.accepts("kill 4121 CONT", captures: captures).fits)
    XCTAssertFalse(kill.accepts("kill 4122 STOP", captures: captures).fits)
    XCTAssertEqual(kill.displayCommand(captures), "kill 4121 STOP")
  }

  /// learner 9: a topic's plural is the topic; a default the machine decides counts when it
  /// equals the step's value; kill(1)'s `kill -15 PID` means `kill PID 15`.
  func testEquivalentsThatOnlyTheCommandKnows() throws {
    let explain = try step("explain signal")
    XCTAssertTrue(explain.accepts("explain signals").fits)
    XCTAssertTrue(explain.accepts("explain Signal").fits)
    XCTAssertFalse(explain.accepts("explain zombie").fits)
    let parallel = try step("parallel --threads 2")
    let cpus = max(2, Threads.allowedCPUs().count)
    XCTAssertEqual(
      parallel.accepts("parallel --work 400").fits, cpus == 2, "the default is \(cpus) threads here")
    XCTAssertEqual(parallel.accepts("parallel").fits, cpus == 2)
    XCTAssertFalse(parallel.accepts("parallel --processes 2").fits)
    let kill = try step("kill 4121")
    XCTAssertTrue(kill.accepts("kill -15 4121").fits, "kill(1)'s spelling: the signal first")
    XCTAssertTrue(kill.accepts("kill -TERM 4121").fits)
    XCTAssertTrue(kill.accepts("kill -s SIGTERM 4121").fits)
    XCTAssertFalse(kill.accepts("kill -9 4121").fits, "another signal is another command")
    let stop = try step("kill 4121 STOP")
    XCTAssertTrue(stop.accepts("kill -STOP 4121").fits)
    XCTAssertTrue(stop.accepts("kill -SIGSTOP 4121").fits)
    XCTAssertTrue(stop.accepts("kill -19 4121").fits)
    XCTAssertFalse(kill.accepts("kill -15 -4121").fits, "a process group is not one of the shell's children")
  }

  func testAFreeOptionAcceptsAnyValueOrNone() throws {
    let race = try step("race", "<!-- free: --iterations -->")
    XCTAssertTrue(race.accepts("race").fits, "the step says `race` runs all three")
    XCTAssertTrue(race.accepts("race --iterations 300000").fits)
    XCTAssertFalse(race.accepts("race --racy").fits)
    XCTAssertFalse(race.accepts("race --threads 3").fits)
    XCTAssertEqual(race.freedom, ["any --iterations, or none"])
  }

  func testAFreePlaceholderTakesAValueInItsRangeAndCapturesIt() throws {
    let race = try step(
      "race --iterations {{it:int 1000..100000000}}", "<!-- run: race --iterations 1000000 -->")
    let typed = race.accepts("race --iterations 5000")
    XCTAssertTrue(typed.fits)
    XCTAssertEqual(typed.captures["it"], "5000")
    let plain = race.accepts("race")
    XCTAssertTrue(plain.fits, "the default is in range")
    XCTAssertEqual(plain.captures["it"], "30000000")
    let small = race.accepts("race --iterations 10")
    XCTAssertFalse(small.fits)
    XCTAssertTrue(small.reason?.contains("from 1000 to 100000000") ?? false, small.reason ?? "")
    // What the learner is shown is a command to type, never a placeholder.
    XCTAssertEqual(race.displayCommand(Captures()), "race --iterations 1000000")
    XCTAssertEqual(race.freedom, ["any --iterations from 1000 to 100000000"])
    let count = try step("spawn {{n:int 2..8}}", "<!-- run: spawn 3 -->")
    XCTAssertEqual(count.accepts("spawn 5").captures["n"], "5")
    XCTAssertFalse(count.accepts("spawn 9").fits)
  }

  /// Commands not yet moved to typed options: compared by their option words, in any order.
  func testRawWordCommandsStillMatchInAnyOrder() throws {
    let io = try step("io --poll --tasks 32")
    XCTAssertTrue(io.accepts("io --tasks 32 --poll").fits)
    XCTAssertFalse(io.accepts("io --poll").fits)
    let cost = try step("cost --iterations {{n:int 10..100000}}", "<!-- run: cost --iterations 100 -->")
    XCTAssertTrue(cost.accepts("cost").fits, "plain cost: the placeholder's option may be left out")
    XCTAssertEqual(cost.accepts("cost --iterations 50").captures["n"], "50")
    XCTAssertFalse(cost.accepts("cost --iterations 5").fits)
    XCTAssertEqual(cost.displayCommand(Captures()), "cost --iterations 100")
  }
}
