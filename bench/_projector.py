"""The projector for vote_latency.py, in its own process: a real python-socketio
client on the screen audience. Prints `hello` once connected, then one line
`tally <monotonic time> <dots total>` per push that carries the tally count.
Stops when its standard input closes.

    python bench/_projector.py BASE_URL CODE COOKIE
"""
import re
import sys
import time

import socketio

COUNT = re.compile(r'tally-count"><strong>(\d+)</strong>')


def main():
    base, code, cookie = sys.argv[1:4]
    out = sys.stdout
    sio = socketio.Client(reconnection=False)

    @sio.on("hello")
    def hello(msg):
        out.write("hello\n")
        out.flush()

    @sio.on("push")
    def push(msg):
        now = time.monotonic()
        match = COUNT.search(msg.get("html", ""))
        if match:
            out.write(f"tally {now:.6f} {match.group(1)}\n")
            out.flush()

    sio.connect(base, headers={"Cookie": cookie}, auth={"workshop": code}, transports=["websocket"],
                wait_timeout=30)
    sys.stdin.read()   # until the benchmark closes our input
    sio.disconnect()


if __name__ == "__main__":
    main()
