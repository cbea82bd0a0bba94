/// The sections of `proclab(1)` that argument-parser does not know: the shell's own
/// commands, from the same registry `help` reads (name, usage line, summary, option
/// rows, examples), and where an installed proclab keeps its files. `Scripts/package`
/// splices them, as mdoc(7), into the page argument-parser's `generate-manual` makes
/// from the command-line declarations (`proclab __man` prints them).
public enum ManualPage {
  /// `SHELL COMMANDS`, `ENVIRONMENT`, `FILES` and `SEE ALSO`, in mdoc(7)'s order (the
  /// packaging script moves `SEE ALSO` after argument-parser's `EXIT STATUS`).
  public static func sections(registry: Registry = Catalog.registry) -> String {
    var out: [String] = []
    out += commandSection(registry)
    out += environmentSection
    out += filesSection
    out += seeAlsoSection
    return out.joined(separator: "\n") + "\n"
  }

  static func commandSection(_ registry: Registry) -> [String] {
    var out = [
      ".Sh SHELL COMMANDS",
      "These are typed at the proclab prompt, given to",
      ".Fl c",
      "(separated by",
      ".Ql \\&; ) ,",
      "or written one per line in a file for",
      ".Cm run .",
      "In the shell,",
      ".Ic help Ar command",
      "shows the same text, and Tab completes names, options and values.",
    ]
    for area in Command.Area.allCases {
      let commands = registry.commands.filter { $0.area == area }
      if commands.isEmpty { continue }
      out.append(".Ss \(quoted(area.title))")
      out.append(".Bl -tag -width Ds")
      for c in commands {
        out.append(".It Sy \(quoted(c.usage))")
        out.append(text(sentence(c.summary)))
        if !c.aliases.isEmpty {
          out.append("Also called " + c.aliases.map { text($0) }.joined(separator: ", ") + ".")
        }
        let rows = c.options.flatMap(\.rows)
        if !rows.isEmpty {
          out.append(".Bl -tag -width Ds -compact")
          for row in rows {
            out.append(".It Li \(quoted(row.label))")
            out.append(text(row.help))
          }
          out.append(".El")
        }
        for example in c.examples {
          out.append(".Dl \(quoted(example))")
        }
      }
      out.append(".El")
    }
    return out
  }

  static let filesSection = [
    ".Sh FILES",
    "Paths under",
    ".Ar prefix",
    "are found from the running binary,",
    ".Ar prefix Ns Pa /bin/proclab :",
    ".Pa /usr",
    "for the Debian package,",
    ".Pa ~/.local",
    "for the tarball unpacked there.",
    ".Bl -tag -width Ds",
    ".It Ar prefix Ns Pa /share/proclab/lessons",
    "The course, one Markdown file per lesson (unless",
    ".Fl -lessons",
    "or",
    ".Ev PROCLAB_LESSONS",
    "names another).",
    ".It Ar prefix Ns Pa /share/proclab/transcripts",
    "Recorded sessions, which",
    ".Nm Cm check",
    "replays and compares.",
    ".It Ar prefix Ns Pa /lib/proclab/proclab-forker",
    "A small C process that",
    ".Ic cost",
    "forks from, to compare with fork of the shell itself.",
    ".It Pa $XDG_STATE_HOME/proclab/ , ~/.local/state/proclab/",
    "The shell's",
    ".Pa history",
    "and the lesson progress,",
    ".Pa progress.json .",
    ".El",
  ]

  static let environmentSection = [
    ".Sh ENVIRONMENT",
    ".Bl -tag -width Ds",
    ".It Ev NO_COLOR",
    "When set, no colour (as",
    ".Fl -no-color ) ;",
    "so does",
    ".Ev TERM Ns =dumb .",
    ".It Ev PROCLAB_LESSONS",
    "The course directory, when",
    ".Fl -lessons",
    "is not given.",
    ".It Ev XDG_STATE_HOME , HOME",
    "Where history and progress are kept.",
    ".It Ev TMPDIR",
    "Where experiments make their private scratch directories and named pipes (default",
    ".Pa /tmp ) .",
    ".El",
  ]

  static let seeAlsoSection = [
    ".Sh SEE ALSO",
    ".Xr strace 1 ,",
    ".Xr clone 2 ,",
    ".Xr execve 2 ,",
    ".Xr fork 2 ,",
    ".Xr mmap 2 ,",
    ".Xr pipe 2 ,",
    ".Xr wait 2 ,",
    ".Xr posix_spawn 3 ,",
    ".Xr pthread_create 3 ,",
    ".Xr proc 5 ,",
    ".Xr mq_overview 7 ,",
    ".Xr pthreads 7 ,",
    ".Xr sem_overview 7 ,",
    ".Xr shm_overview 7 ,",
    ".Xr signal 7",
  ]

  /// A summary as a sentence: capital first letter, full stop.
  static func sentence(_ s: String) -> String {
    let first = s.prefix(1).uppercased() + s.dropFirst()
    return first.hasSuffix(".") ? first : first + "."
  }

  /// One macro argument in double quotes: mdoc takes `|`, `[`, `]` and `;` in it as
  /// text, not as delimiters; a `"` inside is written `\(dq`.
  static func quoted(_ s: String) -> String {
    "\"" + escaped(s).replacing("\"", with: "\\(dq") + "\""
  }

  /// A text line: roff escapes written out, and a leading `.` or `'` (a control
  /// character at the start of a line) made literal with `\&`.
  static func text(_ s: String) -> String {
    let e = escaped(s)
    return e.hasPrefix(".") || e.hasPrefix("'") ? "\\&" + e : e
  }

  /// `\` as `\e`; `-` as `\-`, so options print as the ASCII minus a learner can copy,
  /// not as a typographic hyphen; anything beyond ASCII (`…`, `µ`, `—`) as a `\[uXXXX]`
  /// escape, which every roff reads whatever the page's encoding.
  static func escaped(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out += "\\e"
      case "-": out += "\\-"
      case _ where scalar.value > 127:
        out += "\\[u" + NumberFormat.hex(scalar.value, width: 4).uppercased() + "]"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
