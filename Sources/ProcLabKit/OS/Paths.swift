import Glibc

/// File paths without Foundation: what `NSString`'s path methods, `ObjCBool`
/// `fileExists(atPath:isDirectory:)`, `subpaths(atPath:)` and `NSHomeDirectory()`
/// did for the shell's own housekeeping (finding the course, reading check files).
/// The text functions touch no file; the others say which call they make.
public enum Paths {
  /// `"/a/b.md"` → `"b.md"`; a trailing `/` is ignored (`"/a/b/"` → `"b"`); `"/"` → `"/"`.
  public static func lastComponent(_ path: String) -> String {
    let trimmed = withoutTrailingSlashes(path)
    if trimmed == "/" { return "/" }
    return String(trimmed.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
  }

  /// `"/a/b.md"` → `"/a"`, `"/a"` → `"/"`, `"/"` → `"/"`, `"b.md"` → `""`.
  public static func deletingLastComponent(_ path: String) -> String {
    let trimmed = withoutTrailingSlashes(path)
    guard let slash = trimmed.lastIndex(of: "/") else { return "" }
    if slash == trimmed.startIndex { return "/" }
    return withoutTrailingSlashes(String(trimmed[..<slash]))
  }

  /// `"notes/05-cost.md"` → `"md"`; `""` when the last component has no dot after its first character.
  public static func pathExtension(_ path: String) -> String {
    let name = lastComponent(path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return String(name[name.index(after: dot)...])
  }

  /// `"lessons/05-cost.md"` → `"lessons/05-cost"`: the path without its last component's
  /// extension (and trailing slashes; a doubled slash inside stays, which NSString would fold).
  public static func deletingExtension(_ path: String) -> String {
    let ext = pathExtension(path)
    if ext.isEmpty { return withoutTrailingSlashes(path) }
    return String(withoutTrailingSlashes(path).dropLast(ext.count + 1))
  }

  /// `appending("/a/", "b")` → `"/a/b"`, `appending("", "b")` → `"b"`.
  public static func appending(_ path: String, _ component: String) -> String {
    if path.isEmpty { return component }
    if component.isEmpty { return path }
    return withoutTrailingSlashes(path) == "/"
      ? "/" + component : withoutTrailingSlashes(path) + "/" + component
  }

  /// Whether `path` names a directory, following symbolic links. The corresponding call is `stat(2)`.
  public static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// Whether anything is at `path` (a dangling symbolic link counts as nothing). The corresponding call is `stat(2)`.
  public static func exists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
  }

  /// Every file and directory under `path`, relative to it, depth first, in name
  /// order (`subpaths(atPath:)`); nil if `path` is no readable directory. Symbolic
  /// links are listed but not followed, so a loop of links cannot trap the walk.
  /// The corresponding calls are `opendir(3)`/`readdir(3)` (`getdents64(2)`) and `lstat(2)`.
  public static func subpaths(_ path: String) -> [String]? {
    guard let names = entries(path) else { return nil }
    var found: [String] = []
    for name in names {
      found.append(name)
      let full = appending(path, name)
      var st = stat()
      if lstat(full, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
        found += (subpaths(full) ?? []).map { name + "/" + $0 }
      }
    }
    return found
  }

  /// The names in one directory, sorted, without `.` and `..` (`contentsOfDirectory(atPath:)`);
  /// nil if `path` is no readable directory. The corresponding calls are `opendir(3)`/`readdir(3)`.
  public static func entries(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// Creates `path` and every missing parent (`mkdir -p`, mode 0777 less the umask, as
  /// `createDirectory(atPath:withIntermediateDirectories: true)` did); true when a directory
  /// is there at the end. The corresponding call is `mkdir(2)` (EEXIST is no failure).
  @discardableResult
  public static func makeDirectories(_ path: String) -> Bool {
    if path.isEmpty { return false }
    var built = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      built += "/" + part
      if mkdir(built, 0o777) != 0 && errno != EEXIST { return false }
    }
    return isDirectory(path)
  }

  /// A whole file's bytes (`FileManager.contents(atPath:)`), or nil if it cannot be read (a
  /// directory, no permission, nothing there). The corresponding calls are `open(2)`, `read(2)`
  /// until end of file (retried after EINTR) and `close(2)`.
  public static func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return nil }
      if n == 0 { return bytes }
      bytes += buffer[0..<n]
    }
  }

  /// A whole UTF-8 text file, or nil if it cannot be read or is not UTF-8
  /// (`String(contentsOfFile:encoding: .utf8)`).
  public static func readText(_ path: String) -> String? {
    readFile(path).flatMap { String(validating: $0, as: UTF8.self) }
  }

  /// `$HOME`, or the home directory the password database gives the real user
  /// (`NSHomeDirectory()`). The corresponding call is `getpwuid_r(3)`.
  public static func homeDirectory(environment: [String: String]) -> String {
    if let home = environment["HOME"], !home.isEmpty { return home }
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getpwuid_r(getuid(), &entry, &buffer, buffer.count, &result) == 0, result != nil,
      let dir = entry.pw_dir
    else { return "/" }
    return String(cString: dir)
  }

  /// The working directory (`FileManager.currentDirectoryPath`). The corresponding call is `getcwd(3)`.
  public static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func withoutTrailingSlashes(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    return String(p)
  }
}
