/// An order-sensitive checksum of a byte stream cut at any places: the sum of
/// its little-endian 64-bit words times odd weights (word i × (2i + 1)), mixed
/// with its length. The transfer child computes the same in C (CLab/ipc.c) over
/// what it received; the shell computes it here over what it sent.
public struct IPCChecksum: Sendable, Equatable {
  private var sum: UInt64 = 0
  private var index: UInt64 = 0
  private var partial: UInt64 = 0
  private var have = 0

  public init() {}

  public mutating func add(_ bytes: UnsafeRawBufferPointer) {
    var i = 0
    let n = bytes.count
    while i < n && have > 0 {
      addByte(bytes[i])
      i += 1
    }
    while n - i >= 8 {
      let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      sum &+= word &* (2 &* index &+ 1)
      index &+= 1
      i += 8
    }
    while i < n {
      addByte(bytes[i])
      i += 1
    }
  }

  private mutating func addByte(_ b: UInt8) {
    partial |= UInt64(b) << UInt64(8 * have)
    have += 1
    if have == 8 {
      sum &+= partial &* (2 &* index &+ 1)
      index &+= 1
      partial = 0
      have = 0
    }
  }

  public var value: UInt64 {
    var s = sum
    if have > 0 { s &+= partial &* (2 &* index &+ 1) }
    return s ^ (index &* 8 &+ UInt64(have))
  }
}
