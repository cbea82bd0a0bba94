/// What `set` changes.
public struct Settings: Sendable {
  public enum ExplainLevel: String, Sendable, CaseIterable { case off, short, full }
  public var explain: ExplainLevel = .short
  public var color = false
  public var trace = false
  public var json = false
  public init() {}
}
