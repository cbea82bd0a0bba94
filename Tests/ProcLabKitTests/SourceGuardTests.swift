import Foundation
import XCTest

/// Guards on the shape of Sources/: `OS/` is the one place that calls the system, and
/// every escape from Swift's concurrency checking says why. Each failure names file:line.
final class SourceGuardTests: XCTestCase {
  /// C library and system calls that belong in `OS/` (processes, files, descriptors, signals,
  /// threads, time, memory, IPC, the terminal, the environment).
  static let systemCalls: Set<String> = Set(
    """
    open openat close read write pread pwrite readv writev pipe pipe2 dup dup2 dup3 fcntl ioctl lseek
    fsync ftruncate truncate stat lstat fstat fstatat access faccessat readlink readlinkat rename
    renameat unlink unlinkat mkdir mkdirat rmdir chdir fchdir getcwd chmod fchmod chown symlink link
    mkfifo mknod realpath opendir readdir closedir mkstemp mkdtemp
    fork vfork execve execv execvp posix_spawn posix_spawnp waitpid wait wait3 wait4 waitid kill
    killpg tgkill raise abort exit _exit atexit getpid getppid gettid getpgid setpgid getpgrp setsid
    getsid getuid geteuid getgid getegid setuid setgid
    signal sigaction sigprocmask pthread_sigmask sigpending sigsuspend sigwait sigtimedwait
    sigwaitinfo sigqueue sigaltstack alarm pause
    nanosleep usleep sleep clock_gettime clock_nanosleep gettimeofday time
    poll ppoll select pselect epoll_create1 epoll_ctl epoll_wait eventfd
    mmap munmap mprotect madvise mlock msync shm_open shm_unlink memfd_create
    socket socketpair bind listen accept connect send recv sendto recvfrom sendmsg recvmsg shutdown
    setsockopt getsockopt
    mq_open mq_close mq_unlink mq_send mq_receive mq_getattr sem_open sem_close sem_unlink sem_init
    sem_destroy sem_wait sem_trywait sem_timedwait sem_post sem_getvalue
    pthread_create pthread_join pthread_detach pthread_kill pthread_mutex_init pthread_mutex_lock
    pthread_mutex_unlock pthread_mutex_trylock pthread_mutex_destroy pthread_cond_init
    pthread_cond_wait pthread_cond_signal pthread_cond_broadcast pthread_cond_destroy
    pthread_rwlock_init pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_unlock
    pthread_setname_np pthread_getattr_np pthread_once pthread_atfork
    sched_yield sched_getcpu sched_getaffinity sched_setaffinity getrusage getrlimit setrlimit
    prlimit sysconf uname getenv setenv unsetenv putenv
    isatty ttyname tcgetattr tcsetattr tcgetpgrp tcsetpgrp
    fopen fclose fread fwrite fflush fgets fputs printf fprintf puts popen pclose system
    malloc free calloc realloc strdup prctl ptrace process_vm_readv syscall
    """.split(whereSeparator: \.isWhitespace).map(String.init))

  /// Calls outside `OS/` that stay where they are, each with its reason. Key: path from the
  /// package root, and the call's name.
  static let allowedOutsideOS: [String: String] = [
    "Sources/proclab/ReadlineSource.swift strdup":
      "readline frees the strings it is given (rl_readline_name, each completion): they must come from malloc",
    "Sources/proclab/ReadlineSource.swift free": "the line readline returned was malloc'd by readline",
  ]

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func swiftFiles(under folders: [String]) -> [(path: String, text: String)] {
    folders.flatMap { folder -> [(path: String, text: String)] in
      let base = root.appendingPathComponent(folder)
      guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
      return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().compactMap {
        name in
        let path = "\(folder)/\(name)"
        return (try? String(contentsOf: base.appendingPathComponent(name), encoding: .utf8)).map {
          (path, $0)
        }
      }
    }
  }

  func testNoSystemCallOutsideOS() throws {
    let files = Self.swiftFiles(under: ["Sources/ProcLabKit", "Sources/proclab"]).filter {
      !$0.path.hasPrefix("Sources/ProcLabKit/OS/")
    }
    XCTAssertGreaterThan(files.count, 100, "the scan found the sources")
    var found: [String] = []
    var allowedSeen = Set<String>()
    for file in files {
      let calls = SwiftSource(file.text).calls(of: Self.systemCalls)
      for call in calls {
        let key = "\(file.path) \(call.name)"
        if Self.allowedOutsideOS[key] != nil {
          allowedSeen.insert(key)
          continue
        }
        found.append("\(file.path):\(call.line): \(call.name)(…) outside OS/: call a wrapper in OS/ instead")
      }
    }
    XCTAssertEqual(found, [], "\n" + found.joined(separator: "\n"))
    let stale = Set(Self.allowedOutsideOS.keys).subtracting(allowedSeen).sorted()
    XCTAssertEqual(stale, [], "allowed calls no longer made: remove them from the list")
  }

  /// The scanner sees calls in code and interpolations, not in comments or string text, and
  /// not a type's own method of the same name.
  func testScannerFindsOnlyRealCalls() {
    let source = """
      // getpid() in a comment
      let a = "getpid() in text, \\(getpid()) in an interpolation"
      let b = x.write(1)  /* close(fd) */
      let c = Glibc.close(fd)
      let d = #"raw "kill(1)" text"#
      """
    XCTAssertEqual(
      SwiftSource(source).calls(of: ["getpid", "write", "close", "kill"]).map { "\($0.line) \($0.name)" },
      ["2 getpid", "4 close"])
    XCTAssertEqual(SwiftSource("func send(_ m: Int) {}\nsend(1)").calls(of: ["send"]).count, 0)
    XCTAssertEqual(SwiftSource("var write: (String) -> Void\nwrite(\"a\")").calls(of: ["write"]).count, 0)
    XCTAssertEqual(SwiftSource("let n = 1\nwrite(1, p, n)").calls(of: ["write"]).count, 1)
  }

  /// Every `@unchecked Sendable` and `nonisolated(unsafe)` says why, in a `// why:` comment on
  /// its line or in the comments right above it.
  func testEveryUnsafeAnnotationSaysWhy() {
    let files = Self.swiftFiles(under: ["Sources", "Tests"])
    var missing: [String] = []
    var count = 0
    for file in files where !file.path.hasSuffix("SourceGuardTests.swift") {
      let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let code = SwiftSource(file.text).codeLines
      for (i, line) in code.enumerated()
      where line.contains("@unchecked Sendable") || line.contains("nonisolated(unsafe)") {
        count += 1
        if !Self.saysWhy(lines, at: i) { missing.append("\(file.path):\(i + 1): \(lines[i].trimmed)") }
      }
    }
    XCTAssertGreaterThan(count, 0, "the scan found the annotations")
    XCTAssertEqual(missing, [], "add a one-line `// why:` above each:\n" + missing.joined(separator: "\n"))
  }

  /// `// why:` on the line, or in the comment lines directly above (sibling declarations
  /// under one comment share it).
  static func saysWhy(_ lines: [String], at index: Int) -> Bool {
    if lines[index].contains("// why:") { return true }
    var i = index - 1
    while i >= 0 {
      let line = lines[i].trimmed
      if line.hasPrefix("// why:") { return true }
      let sibling = line.contains("@unchecked Sendable") || line.contains("nonisolated(unsafe)")
      guard line.hasPrefix("//") || line.hasPrefix("@") || sibling else { return false }
      i -= 1
    }
    return false
  }
}

extension String {
  fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}

/// A Swift file with comments and string text blanked out (interpolated code kept), line for
/// line, so that a search for a call finds only calls.
struct SwiftSource {
  let codeLines: [String]
  /// Functions the file declares itself: a call to one is not a call to the C library.
  let declared: Set<String>

  init(_ text: String) {
    let code = SwiftSource.blank(Array(text.unicodeScalars))
    codeLines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var names = Set<String>()
    for line in codeLines {
      var rest = Substring(line)
      // A method, or a closure property (`var write: (String) -> Void`), of the file's own type.
      for keyword in ["func ", "var ", "let "] {
        rest = Substring(line)
        while let r = rest.range(of: keyword) {
          names.insert(String(rest[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }))
          rest = rest[r.upperBound...]
        }
      }
    }
    declared = names
  }

  /// Each call of a name in `names`: not a member access (`x.write(`) unless through `Glibc.`,
  /// not a declaration, not a function the file declares itself.
  func calls(of names: Set<String>) -> [(line: Int, name: String)] {
    var result: [(line: Int, name: String)] = []
    for (index, line) in codeLines.enumerated() {
      let chars = Array(line)
      var i = 0
      while i < chars.count {
        guard chars[i].isLetter || chars[i] == "_" else {
          i += 1
          continue
        }
        var j = i
        while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_") { j += 1 }
        let word = String(chars[i..<j])
        var k = j
        while k < chars.count && chars[k] == " " { k += 1 }
        let before = String(chars[..<i]).reversed().drop { $0 == " " }
        let qualified = String(chars[..<i]).hasSuffix("Glibc.")
        let member = before.first == "." && !qualified
        let declaration = String(chars[..<i]).hasSuffix("func ") || String(chars[..<i]).hasSuffix("case ")
        if k < chars.count && chars[k] == "(" && names.contains(word) && !member && !declaration
          && !declared.contains(word)
        {
          result.append((index + 1, word))
        }
        i = j
      }
    }
    return result
  }

  /// Comments and string text become spaces (newlines stay); `\(…)` inside a string stays code.
  static func blank(_ s: [Unicode.Scalar]) -> String {
    var out = String.UnicodeScalarView()
    var i = 0
    // Open strings, innermost last: their delimiter (`"` or `"""`) and `#` count, and the
    // parenthesis depth of the interpolation being read inside each.
    var strings: [(quote: String, hashes: Int)] = []
    var depths: [Int] = [0]
    var inString = false
    func at(_ text: String) -> Bool {
      let t = Array(text.unicodeScalars)
      return i + t.count <= s.count && Array(s[i..<(i + t.count)]) == t
    }
    func skip(_ n: Int) {
      for _ in 0..<n where i < s.count {
        out.append(s[i] == "\n" ? "\n" : " ")
        i += 1
      }
    }
    while i < s.count {
      if !inString {
        if at("//") {
          while i < s.count && s[i] != "\n" { skip(1) }
        } else if at("/*") {
          while i < s.count && !at("*/") { skip(1) }
          skip(2)
        } else if s[i] == "#" || s[i] == "\"" {
          var hashes = 0
          while i + hashes < s.count && s[i + hashes] == "#" { hashes += 1 }
          let rest = i + hashes
          guard rest < s.count && s[rest] == "\"" else {
            out.append(s[i])
            i += 1
            continue
          }
          let triple = rest + 2 < s.count && s[rest + 1] == "\"" && s[rest + 2] == "\""
          strings.append((triple ? "\"\"\"" : "\"", hashes))
          skip(hashes + (triple ? 3 : 1))
          inString = true
        } else {
          if s[i] == "(" { depths[depths.count - 1] += 1 }
          if s[i] == ")" {
            if depths.last == 0 && depths.count > 1 {
              depths.removeLast()
              skip(1)
              inString = true
              continue
            }
            depths[depths.count - 1] -= 1
          }
          out.append(s[i])
          i += 1
        }
      } else {
        let (quote, hashes) = strings[strings.count - 1]
        let marks = String(repeating: "#", count: hashes)
        if at("\\" + marks + "(") {
          skip(hashes + 2)
          depths.append(0)
          inString = false
        } else if hashes == 0 && s[i] == "\\" {
          skip(2)
        } else if at(quote + marks) {
          strings.removeLast()
          skip(quote.count + hashes)
          inString = false
        } else {
          skip(1)
        }
      }
    }
    return String(out)
  }
}
