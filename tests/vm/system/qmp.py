#!/usr/bin/python3
"""The host's side of a system-lane guest (tests/vm/run-system): hot-unplugs
and re-plugs the collector NIC over QMP when the guest asks, and measures the
time from device_add to the first copy at the collector.

    qmp.py SOCKET CTL_DIR

Hand-over through files in CTL_DIR (the guest's /ctl):
  replug.req      the guest asks (its content: a label)
  replug.deleted  device_del done, DEVICE_DELETED seen
  replug.armed    the guest watches the collector's peer (cap0)
  (one second of traffic without the NIC, then device_add)
  replug.first    the guest saw the first copy
  replug.time     device_add to replug.first, seconds (host clock)
Each measured time is also appended to CTL_DIR/replug-times. Runs until
qemu closes the socket.
"""
import json
import os
import socket
import sys
import time

MAC = "52:54:00:00:02:01"


class QMP:
    def __init__(self, path):
        for _ in range(300):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit(f"qmp.py: cannot connect to {path}")
        self.f = self.s.makefile("rwb", buffering=0)
        self.events = []
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError
        return json.loads(line)

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            m = self.read()
            if "event" in m:
                self.events.append(m)
            elif "return" in m:
                return m["return"]
            elif "error" in m:
                raise RuntimeError(f"{name}: {m['error']}")

    def wait_deleted(self, dev, timeout):
        end = time.monotonic() + timeout
        self.s.settimeout(1)
        try:
            while time.monotonic() < end:
                for e in self.events:
                    if e["event"] == "DEVICE_DELETED" and e.get("data", {}).get("device") == dev:
                        return True
                try:
                    self.events.append(self.read())
                except (socket.timeout, TimeoutError):
                    pass
            return False
        finally:
            self.s.settimeout(None)


def wait_file(path, timeout, step=0.005):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(step)
    return False


def main():
    sock, ctl = sys.argv[1], sys.argv[2]
    q = QMP(sock)
    cur, n = "coll", 0
    req = os.path.join(ctl, "replug.req")
    while True:
        # qemu gone: the socket says so at the next command
        if not wait_file(req, 1.0, 0.05):
            try:
                q.cmd("query-status")
            except (EOFError, OSError):
                return
            continue
        label = open(req).read().strip()
        os.unlink(req)
        q.events = []
        q.cmd("device_del", id=cur)
        if not q.wait_deleted(cur, 120):
            print(f"qmp.py: {cur} was not removed within 120 s", file=sys.stderr)
            continue
        open(os.path.join(ctl, "replug.deleted"), "w").close()
        if not wait_file(os.path.join(ctl, "replug.armed"), 60):
            print("qmp.py: the guest did not arm its watcher", file=sys.stderr)
        time.sleep(1.0)  # traffic flows while the collector NIC is away
        n += 1
        cur = f"coll{n}"
        t_add = time.monotonic()
        q.cmd("device_add", driver="virtio-net-pci", id=cur, netdev="h1a", bus="rp1", mac=MAC)
        if wait_file(os.path.join(ctl, "replug.first"), 60):
            dt = time.monotonic() - t_add
            with open(os.path.join(ctl, "replug-times"), "a") as f:
                f.write(f"{label} {dt:.2f}\n")
            with open(os.path.join(ctl, "replug.time.tmp"), "w") as f:
                f.write(f"{dt:.2f}\n")
            os.rename(os.path.join(ctl, "replug.time.tmp"), os.path.join(ctl, "replug.time"))


if __name__ == "__main__":
    try:
        main()
    except (EOFError, ConnectionError, BrokenPipeError):
        pass
