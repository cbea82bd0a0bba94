/// The lesson verbs: `lessons`, `lesson`, `next`, `back`, `hint`, `skip`,
/// `progress`, `restart`, `leave`, `answer` (and `a`…`d` for a prediction).
enum LessonArea {
  static let commands: [Command] = LessonCommands.all
}
