"""docs/demo.md, run as written (issue 12: "make run is the demo"): every `$ ` command of the
page's console blocks is pasted, in order, into one bash against a fresh `haar up --env dev`
(and, where the page restarts it on the manual clock, against that restart on the same
state), and what each command prints must be what the page shows.

"What the page shows" allows for what the page itself says will differ — ids, timestamps,
trace ids, cursors, receipt handles, digests of bodies that hold an id — and for its `...`
(anything). An id or cursor the page shows is the same value wherever the page shows it
again, and a later command that pastes it gets the value this run printed instead, as a
reader would paste their own. A command that only reads (a GET with curl, `haar logs`) and
whose answer is still on its way (a task the worker has not finished) is run again until it
matches, for a bounded time; a command that changes something runs once. A command the page
shows no output for must succeed.

The ports are the test's own: the page's localhost:8080 / :4566 become the daemon's, and
`build/bin/haar` the build's binary (HAAR_ENDPOINT points it at the daemon). Debian's AWS
CLI answers for `aws`.
"""

import os
import queue
import re
import subprocess
import threading
import time

from e2e_helpers import HAAR, REPO, Daemon

DEMO = REPO / "docs" / "demo.md"
RETRY_SECONDS = 20  # a read-only command, until its answer matches
COMMAND_TIMEOUT = 60

# Values a reader's run prints differently. Named ones (ids, cursors) are captured where the
# page first shows them and must repeat where the page repeats them.
NAMED = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "cursor": r"eyJ[A-Za-z0-9_-]+",
}
ANONYMOUS = [
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z",
    r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]",
    r"AROA[0-9A-Z]{16}",  # a role's unique id (the functions' SenderId)
]
PER_RUN_KEYS = ("ReceiptHandle", "MD5OfBody", "Timestamp")  # "KEY": value, this run's own
ELLIPSIS = r"\.\.\.|…"


def console_blocks(text):
    """[(command, expected output lines)] of every ```console block, in page order."""
    steps, block = [], None
    for line in text.splitlines():
        if block is None:
            if line.strip() == "```console":
                block = []
            continue
        if line.strip() == "```":
            steps.extend(block)
            block = None
        elif line.startswith("$ "):
            block.append([line[2:], []])
        elif block and block[-1][0].endswith("\\") and not block[-1][1]:
            block[-1][0] += "\n" + line
        elif block:
            block[-1][1].append(line)
    return steps


class Shell:
    """One bash the commands are pasted into (variables such as $ID carry over)."""

    MARK = "__haar_demo_done__"

    def __init__(self, env):
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, command):
        """(exit status, output) of one pasted command."""
        self.proc.stdin.write(f"{command}\nprintf '\\n{self.MARK} %d\\n' $?\n")
        self.proc.stdin.flush()
        out, deadline = [], time.monotonic() + COMMAND_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no end of `{command}` within {COMMAND_TIMEOUT}s:\n"
                                     + "".join(out)) from None
            if line is None:
                raise AssertionError(f"the shell ended during `{command}`:\n" + "".join(out))
            if line.startswith(self.MARK):
                text = "".join(out)
                return int(line.split()[1]), text[:-1] if text.endswith("\n") else text
            out.append(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


class Values:
    """What the page's ids and cursors were in this run."""

    def __init__(self):
        self.actual = {}

    def paste(self, command):
        for page, run in self.actual.items():
            command = command.replace(page, run)
        return command

    def expectation(self, lines, command):
        """(regex, {group: page value}) for the output lines the page shows."""
        text = "\n".join(line.rstrip() for line in lines).strip("\n")
        named = "|".join(f"(?P<{k}>{p})" for k, p in NAMED.items())
        any_re = "|".join(f"(?:{p})" for p in ANONYMOUS)
        keys = "|".join(PER_RUN_KEYS)
        token = re.compile(f'{named}|(?P<anon>{any_re})|(?P<ell>{ELLIPSIS})'
                           f'|(?P<key>"(?:{keys})": ?)(?:"[^"]*"|\\d+)')
        out, groups, first = [], {}, {}
        pos = 0
        for m in token.finditer(text):
            out.append(re.escape(text[pos:m.start()]))
            pos = m.end()
            kind = m.lastgroup
            value = m.group(0)
            if kind in NAMED:
                if value in self.actual:
                    out.append(re.escape(self.actual[value]))
                elif value in command:
                    out.append(re.escape(value))  # the page's own literal (an unknown id)
                elif value in first:
                    out.append(f"(?P={first[value]})")
                else:
                    name = f"v{len(first)}"
                    first[value] = name
                    groups[name] = value
                    out.append(f"(?P<{name}>{NAMED[kind]})")
            elif kind == "anon":
                out.append(f"(?:{any_re})")
            elif kind == "ell":
                out.append(".*?")
            else:
                out.append(re.escape(m.group("key")) + r'(?:"[^"]*"|\d+)')
        out.append(re.escape(text[pos:]))
        return re.compile("".join(out), re.S), groups

    def learn(self, match, groups):
        for name, page in groups.items():
            self.actual[page] = match.group(name)


def read_only(command, earlier):
    """Whether running the command again changes nothing, so it may be retried until it matches:
    a GET, `haar logs`, or the replay of an earlier page command (steps) with the same
    Idempotency-Key."""
    c = command.strip()
    return ((c.startswith("curl ") and " -X " not in c) or c.startswith("build/bin/haar logs")
            or ("Idempotency-Key:" in c and any(c == cmd.strip() for cmd, _ in earlier)))


def ports(command, daemon):
    for host in ("localhost", "127.0.0.1"):
        command = command.replace(f"{host}:8080", f"127.0.0.1:{daemon.api_port}")
        command = command.replace(f"{host}:4566", f"127.0.0.1:{daemon.aws_port}")
    return command


def test_demo_page_runs_as_written(tmp_path):
    steps = console_blocks(DEMO.read_text())
    assert len(steps) > 20, f"{DEMO}: expected the demo's console blocks, found {len(steps)}"
    daemon = Daemon(tmp_path)
    daemon.wait_ready()
    env = dict(os.environ, PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""),
               HAAR_ENDPOINT=daemon.aws_url)
    shell, values = Shell(env), Values()
    try:
        for n, (page_cmd, page_out) in enumerate(steps, 1):
            where = f"{DEMO.name}, command {n}: $ {page_cmd}"
            if re.match(r"build/bin/haar up\b", page_cmd):
                # the page's restart: stop the daemon, start it with the page's flags, same state
                assert daemon.stop() == 0, f"{where}: the daemon did not stop cleanly"
                flags = page_cmd.split()[2:]
                assert flags[:2] == ["--env", "dev"], where
                daemon = Daemon(tmp_path, extra_args=tuple(flags[2:]))
                daemon.wait_ready()
                shell.run(f"export HAAR_ENDPOINT={daemon.aws_url}")
                page_out = [ports(line, daemon) for line in page_out]
                run = lambda: (0, daemon.stdout_lines[-1])  # noqa: E731 (its ready line)
            else:
                command = ports(values.paste(page_cmd.replace("build/bin/haar", str(HAAR))),
                                daemon)
                run = lambda: shell.run(command)  # noqa: E731
            want, groups = values.expectation(page_out, page_cmd)
            retry = RETRY_SECONDS if read_only(page_cmd, steps[:n - 1]) else 0
            deadline = time.monotonic() + retry
            while True:
                rc, out = run()
                got = "\n".join(line.rstrip() for line in out.replace("\r\n", "\n").split("\n"))
                m = want.fullmatch(got.strip("\n")) if page_out else None
                if rc == 0 and (m or not page_out):
                    break
                if time.monotonic() >= deadline:
                    raise AssertionError(
                        f"{where}\nexit status {rc}; the page shows:\n"
                        + "\n".join(page_out) + f"\nthis run printed:\n{got}")
                time.sleep(0.25)
            if m:
                values.learn(m, groups)
    finally:
        shell.close()
        rc = daemon.stop()
    assert rc == 0, daemon.stderr_tail()
