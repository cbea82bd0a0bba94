import CLab
import Glibc

/// A process group for the programs a command starts (`spawn --exec`), kept by
/// a small forked keeper (CLab's clab_fork_group_keeper) that leads the group.
///
/// A lab child or a fork child runs proclab's own code, which ties its life to
/// the shell with PR_SET_PDEATHSIG. An external program runs its own code, and
/// its children run theirs, so nothing in them can do that. Instead each one
/// starts inside the keeper's group (POSIX_SPAWN_SETPGROUP: no window in which
/// it is outside), and the keeper waits on a pipe only the shell writes to.
/// When the shell closes it (`close()`, at the end of the command) or dies (the
/// kernel closes a dead process's descriptors, even after SIGKILL), the keeper
/// sends SIGKILL to the whole group — the programs, anything they started in
/// the group, and itself.
public final class ExecGroup {
  /// The keeper's PID, which is also the group's ID.
  public let leader: Int32
  private var watch: Int32

  /// pipe2(O_CLOEXEC), then fork() the keeper; it holds the read end, the shell the write end.
  public init() throws {
    let pipe = try Descriptors.pipe()
    let pid: Int32
    do {
      pid = try Trace.call(
        "fork", "keeper of a process group: waits on a pipe, then kill(0, SIGKILL)",
        describe: { "pid \($0)" }
      ) { clab_fork_group_keeper(pipe.read) }
    } catch {
      Descriptors.close(pipe.read)
      Descriptors.close(pipe.write)
      throw error
    }
    Descriptors.close(pipe.read)
    leader = pid
    watch = pipe.write
  }

  deinit { close() }

  /// What posix_spawn needs to start a program inside the group.
  public var processGroup: Spawn.ProcessGroup { .join(leader) }

  /// Ends what is left in the group: close(2) the pipe (the keeper sends SIGKILL
  /// to the group), kill(-leader, SIGKILL) in case the keeper is gone, and
  /// wait4 for the keeper. The programs themselves are the caller's to reap.
  public func close() {
    guard watch >= 0 else { return }
    Descriptors.close(watch)
    watch = -1
    SignalSender.sendQuietly(SIGKILL, to: -leader)
    Wait.reap(leader)
  }
}
