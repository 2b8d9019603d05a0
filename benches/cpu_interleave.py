#!/usr/bin/env python3
"""CPU (user + sys) of commands run in turn, round after round.

On a machine shared with other builds, wall time follows the load and CPU
time less so; running the commands in turn lets the noise hit all alike.
Prints each command's median and fastest run, and the load average.

usage: cpu_interleave.py ROUNDS 'name::shell command' ...
"""
import os
import resource
import statistics
import subprocess
import sys


def main():
    rounds = int(sys.argv[1])
    cmds = [a.split("::", 1) for a in sys.argv[2:]]
    cpu = {name: [] for name, _ in cmds}
    for _ in range(rounds):
        for name, cmd in cmds:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(
                (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            )
    for name, _ in cmds:
        v = cpu[name]
        print(f"{name:14s} median {statistics.median(v):.3f}  min {min(v):.3f}  n={len(v)}")
    print("load", os.getloadavg())


if __name__ == "__main__":
    main()
