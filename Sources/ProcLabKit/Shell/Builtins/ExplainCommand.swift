/// `explain`: the last outcome's explanation in full, or a background topic.
enum ExplainCommand {
  /// A topic as the learner names it: `explain signals` means `explain signal`
  /// (a lesson compares the two by meaning).
  struct Topic: OptionValue {
    let word: String
    static func parse(_ word: String) -> Topic? { Topic(word: Topics.name(for: word) ?? word) }
    static var expected: String { "a topic" }
    var canonicalWord: String { word }
    var json: JSON { .string(word) }
  }

  struct Options: CommandOptions {
    var topic: Topic?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "topic", \.topic, "TOPIC", "a topic: " + Topics.names.joined(separator: ", "), completion: .topics)
      ]
    }
  }

  static let command = Command(
    name: "explain", area: .shell, summary: "explain the last outcome in full, or a topic",
    examples: ["explain", "explain zombie"], options: Options.self
  ) { options, session in
    let r = Report()
    if let topic = options.topic?.word {
      guard let text = Topics.text(for: topic) else {
        throw UsageError(
          "explain: no topic '\(Printable.word(topic))'; topics: \(Topics.names.joined(separator: ", "))")
      }
      r.lines(text)
      r.fact("topic", topic.lowercased())
      return r
    }
    guard let last = session.lastOutcome else {
      r.line("Nothing to explain yet: run a command first (try 'info').")
      return r
    }
    let all = last.explanation.short + last.explanation.full
    if all.isEmpty {
      r.line("'\(Printable.line(last.input))' gave no explanation.")
    } else {
      r.line(Style.bold("About '\(Printable.line(last.input))':"))
      r.lines(all)
    }
    r.fact("about", last.input)
    return r
  }
}
