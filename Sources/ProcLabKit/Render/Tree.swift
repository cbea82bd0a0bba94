/// A tree drawn with box-drawing lines, as `ps` shows processes:
/// ```
/// 4100 proclab
/// ├─ 4101 lab copy
/// └─ 4102 lab copy
/// ```
public struct Tree {
  public var label: String
  public var children: [Tree]

  public init(_ label: String, _ children: [Tree] = []) {
    self.label = label
    self.children = children
  }

  public var lines: [String] {
    var out = [label]
    for (i, child) in children.enumerated() {
      let last = i == children.count - 1
      let sub = child.lines
      out.append((last ? "└─ " : "├─ ") + sub[0])
      out += sub.dropFirst().map { (last ? "   " : "│  ") + $0 }
    }
    return out
  }
}
