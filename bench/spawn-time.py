#!/usr/bin/env python3
"""bench/spawn-time.py -- times one run of a command, as hyperfine would.

    spawn-time.py NAME=VALUE... -- CMD ARGS...

Starts CMD with exactly the variables given (posix_spawn from this small
process: no shell or env(1) in between, whose own start-up would be
counted), output to /dev/null, waits for it and prints "MICROSECONDS STATUS".
"""
import os
import sys
import time


def main(argv):
    try:
        cut = argv.index("--")
    except ValueError:
        sys.stderr.write(__doc__)
        return 2
    env = dict(kv.split("=", 1) for kv in argv[:cut])
    cmd = argv[cut + 1:]
    if not cmd:
        sys.stderr.write(__doc__)
        return 2
    null = os.open(os.devnull, os.O_RDWR)
    fa = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
          (os.POSIX_SPAWN_DUP2, null, 2)]
    t0 = time.perf_counter_ns()
    try:
        pid = os.posix_spawn(cmd[0], cmd, env, file_actions=fa)
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
    except OSError:
        rc = 127
    t1 = time.perf_counter_ns()
    print((t1 - t0) // 1000, rc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
