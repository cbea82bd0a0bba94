/// A JSON value whose objects keep the order their keys were added in, so
/// `--json` output reads in the same order as the terminal output.
public enum JSON: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSON])
  case object(JSONObject)

  /// Compact, single-line serialization (one object per line for `--json`).
  public var serialized: String {
    var out = ""
    write(to: &out)
    return out
  }

  func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isFinite {
        out += d == d.rounded() && abs(d) < 1e15 ? NumberFormat.fixed(d, digits: 1) : String(d)
      } else {
        out += "null"
      }
    case .string(let s): JSON.writeString(s, to: &out)
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.write(to: &out)
      }
      out += "]"
    case .object(let object):
      out += "{"
      for (i, field) in object.fields.enumerated() {
        if i > 0 { out += "," }
        JSON.writeString(field.key, to: &out)
        out += ":"
        field.value.write(to: &out)
      }
      out += "}"
    }
  }

  static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        out += "\\u" + NumberFormat.hex(scalar.value, width: 4)
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }

  /// Parses JSON text (from a lab child or a test) into a value; nil if it is not JSON.
  public static func parse(_ text: String) -> JSON? {
    var parser = JSONParser(Array(text.utf8))
    guard let value = parser.value() else { return nil }
    parser.skipSpace()
    return parser.atEnd ? value : nil
  }

  public subscript(key: String) -> JSON? {
    if case .object(let o) = self { return o[key] }
    return nil
  }
  public var intValue: Int? {
    switch self {
    case .int(let i): return i
    case .double(let d): return Int(d)
    default: return nil
    }
  }
  public var doubleValue: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }
  public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
  public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
}

/// An ordered JSON object.
public struct JSONObject: Sendable, Equatable {
  public struct Field: Sendable, Equatable {
    public var key: String
    public var value: JSON
  }
  public private(set) var fields: [Field] = []
  public init() {}

  public subscript(key: String) -> JSON? {
    get { fields.first { $0.key == key }?.value }
    set {
      if let i = fields.firstIndex(where: { $0.key == key }) {
        if let v = newValue { fields[i].value = v } else { fields.remove(at: i) }
      } else if let v = newValue {
        fields.append(Field(key: key, value: v))
      }
    }
  }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(arrayLiteral elements: JSON...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSON)...) {
    var o = JSONObject()
    for (k, v) in elements { o[k] = v }
    self = .object(o)
  }
}

/// Values that know their JSON form, so facts can be written as `facts["pid"] = .from(pid)`.
public protocol JSONRepresentable {
  var json: JSON { get }
}
extension Int: JSONRepresentable { public var json: JSON { .int(self) } }
extension Int32: JSONRepresentable { public var json: JSON { .int(Int(self)) } }
extension UInt64: JSONRepresentable { public var json: JSON { .int(Int(clamping: self)) } }
extension Double: JSONRepresentable { public var json: JSON { .double(self) } }
extension String: JSONRepresentable { public var json: JSON { .string(self) } }
extension Bool: JSONRepresentable { public var json: JSON { .bool(self) } }
extension Array: JSONRepresentable where Element: JSONRepresentable {
  public var json: JSON { .array(map(\.json)) }
}
extension JSON: JSONRepresentable { public var json: JSON { self } }

/// A small recursive-descent JSON reader that keeps object key order.
struct JSONParser {
  let bytes: [UInt8]
  var i = 0
  var depth = 0
  init(_ bytes: [UInt8]) { self.bytes = bytes }
  var atEnd: Bool { i >= bytes.count }

  mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
      i += 1
    }
  }

  mutating func literal(_ word: String) -> Bool {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
    i += w.count
    return true
  }

  mutating func value() -> JSON? {
    skipSpace()
    guard i < bytes.count, depth < 200 else { return nil }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      i += 1
      depth += 1
      defer { depth -= 1 }
      var o = JSONObject()
      skipSpace()
      if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(o)
      }
      while true {
        skipSpace()
        guard let key = string() else { return nil }
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        guard let v = value() else { return nil }
        o[key] = v
        skipSpace()
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "}") {
          i += 1
          return .object(o)
        }
        return nil
      }
    case UInt8(ascii: "["):
      i += 1
      depth += 1
      defer { depth -= 1 }
      var items: [JSON] = []
      skipSpace()
      if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
        i += 1
        return .array(items)
      }
      while true {
        guard let v = value() else { return nil }
        items.append(v)
        skipSpace()
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: ",") {
          i += 1
          continue
        }
        if bytes[i] == UInt8(ascii: "]") {
          i += 1
          return .array(items)
        }
        return nil
      }
    case UInt8(ascii: "\""):
      return string().map(JSON.string)
    case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
    case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
    case UInt8(ascii: "n"): return literal("null") ? .null : nil
    default: return number()
    }
  }

  mutating func number() -> JSON? {
    let start = i
    var isDouble = false
    while i < bytes.count {
      let c = bytes[i]
      if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
        i += 1
      } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
        isDouble = true
        i += 1
      } else {
        break
      }
    }
    let text = String(decoding: bytes[start..<i], as: UTF8.self)
    if !isDouble, let n = Int(text) { return .int(n) }
    return Double(text).map(JSON.double)
  }

  mutating func string() -> String? {
    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
    i += 1
    var out = [UInt8]()
    while i < bytes.count {
      let c = bytes[i]
      i += 1
      if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
      if c != UInt8(ascii: "\\") {
        out.append(c)
        continue
      }
      guard i < bytes.count else { return nil }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        guard i + 4 <= bytes.count,
          var code = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16)
        else { return nil }
        i += 4
        // A surrogate pair spells one character outside the basic plane.
        if code >= 0xD800 && code < 0xDC00 && i + 6 <= bytes.count && bytes[i] == UInt8(ascii: "\\"),
          let low = UInt32(String(decoding: bytes[i + 2..<i + 6], as: UTF8.self), radix: 16), low >= 0xDC00
        {
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
      default: out.append(e)
      }
    }
    return nil
  }
}
