import CLab
import Glibc

/// A `cpu_set_t` read and built bit by bit: glibc's CPU_ISSET and CPU_SET are
/// macros, which Swift does not import. Bit `n` of the mask is CPU `n`.
enum CPUSet {
  /// The CPUs a mask holds, lowest first.
  static func members(of set: cpu_set_t) -> [Int] {
    withUnsafeBytes(of: set) { bytes in
      bytes.enumerated().flatMap { index, byte in
        (0..<8).filter { byte & (1 << $0) != 0 }.map { index * 8 + $0 }
      }
    }
  }

  /// A mask holding only `cpu`.
  static func only(_ cpu: Int) -> cpu_set_t {
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { bytes in
      if cpu >= 0 && cpu / 8 < bytes.count { bytes[cpu / 8] = 1 << (cpu % 8) }
    }
    return set
  }
}
