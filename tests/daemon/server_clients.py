#!/usr/bin/env python3
"""server_clients.py -- clients that curl cannot be: many at once, slow ones,
ones that vanish, an event-stream listener. Used by tests/shell/daemon.sh.

usage: server_clients.py TARGET COMMAND [ARGS...]
  TARGET   unix:/path/to/socket or tcp:HOST:PORT (the token, if any, from
           $SHELFD_TOKEN)
  concurrent N        N connections open at once, each sends GET /api/v1/health;
                      prints how many got "HTTP/1.1 200"
  slowloris SECONDS   one client sends its headers a byte a second; meanwhile
                      plain requests are timed; prints the slowest in ms
  vanish              sends headers and half the body, then closes
  events FILE SECS [NAME]
                      subscribes to /api/v1/events, creates FILE once
                      subscribed, prints the first event name that arrives
                      within SECS (with NAME: NAME once it arrives); "none"
                      when nothing (or no NAME) arrived
"""
import os
import resource
import socket
import sys
import threading
import time


def connect(target, timeout=30):
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(target[5:])
    else:
        host, port = target[4:].rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    return s


def headers(extra=""):
    token = os.environ.get("SHELFD_TOKEN")
    auth = "Authorization: Bearer %s\r\n" % token if token else ""
    return "Host: localhost\r\n%s%s" % (auth, extra)


def request(path="/api/v1/health"):
    return ("GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (path, headers())).encode()


def read_all(s):
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def concurrent(target, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(n):
        socks.append(connect(target, timeout=60))
    # Every connection is open before the first request is sent.
    for s in socks:
        s.sendall(request())
    ok = 0
    results = [None] * n

    def reader(i, s):
        try:
            results[i] = read_all(s)
        except OSError:
            results[i] = b""
        finally:
            s.close()

    threads = [threading.Thread(target=reader, args=(i, s)) for i, s in enumerate(socks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = sum(1 for r in results if r and r.startswith(b"HTTP/1.1 200"))
    print(ok)


def slowloris(target, seconds):
    stop = threading.Event()

    def slow():
        s = connect(target)
        data = ("GET /api/v1/health HTTP/1.1\r\n%sX-Slow: " % headers()).encode() + b"a" * 1000
        for b in data:
            if stop.is_set():
                break
            try:
                s.send(bytes([b]))
            except OSError:
                break
            time.sleep(1)
        s.close()

    t = threading.Thread(target=slow, daemon=True)
    t.start()
    time.sleep(1.5)
    worst = 0.0
    end = time.time() + seconds
    while time.time() < end:
        t0 = time.time()
        s = connect(target)
        s.sendall(request())
        r = read_all(s)
        s.close()
        if not r.startswith(b"HTTP/1.1 200"):
            print("failed: %r" % r[:100])
            return
        worst = max(worst, (time.time() - t0) * 1000)
        time.sleep(0.2)
    stop.set()
    print(int(worst))


def vanish(target):
    s = connect(target)
    body = b'{"modules": ["x"]}' * 50
    s.sendall(("POST /api/v1/load HTTP/1.1\r\n%sContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (headers(), len(body) * 2)).encode() + body)
    time.sleep(0.2)
    s.close()
    print("closed")


def events(target, path, secs, want=None):
    s = connect(target, timeout=secs)
    s.sendall(("GET /api/v1/events HTTP/1.1\r\n%s\r\n" % headers()).encode())
    buf = b""
    deadline = time.time() + secs
    created = False
    try:
        while time.time() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
            if not created and b": connected" in buf:
                d = os.path.dirname(path)
                os.makedirs(d, exist_ok=True)
                with open(path, "w") as f:
                    f.write('whatis("Description: appeared")\n')
                created = True
                buf = b""
            if created:
                for line in buf.split(b"\n"):
                    if line.startswith(b"event: ") and (want is None or line[7:].decode() == want):
                        print(line[7:].decode())
                        return
    except socket.timeout:
        pass
    print("none")


def main():
    target, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "concurrent":
        concurrent(target, int(args[0]))
    elif cmd == "slowloris":
        slowloris(target, float(args[0]))
    elif cmd == "vanish":
        vanish(target)
    elif cmd == "events":
        events(target, args[0], float(args[1]), args[2] if len(args) > 2 else None)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
