"""HTTP load: wrk when installed (a C load generator that leaves the cores to the server),
else an asyncio httpx generator in a process of its own (`python -m bench.loadgen`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

WRK_THREADS = 1  # one core's worth of wrk far outpaces a one-process Python server


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers and socket errors
    generator: str


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "httpx (asyncio, separate process)"


def post(url: str, body: str, headers: dict[str, str], *, connections: int, seconds: float) -> Load:
    """POST `body` to `url` over `connections` keep-alive connections for `seconds`."""
    if shutil.which("wrk"):
        return _wrk(url, body, headers, connections, seconds)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"url": url, "body": body, "headers": headers}, spec)
    command = [sys.executable, "-m", "bench.loadgen", spec.name]
    command += ["--connections", str(connections), "--seconds", str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    Path(spec.name).unlink()
    return Load(**json.loads(done.stdout))


def _wrk(url: str, body: str, headers: dict[str, str], connections: int, seconds: float) -> Load:
    lua = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lua += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lua) + "\n")
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "30s", "-s", script.name, url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    Path(script.name).unlink()
    return _parse_wrk(done.stdout)


def _lua_string(text: str) -> str:
    # A long bracket string, spaced so that `headers[ ... ]` does not read as `[[`.
    return " [==[" + text + "]==] "


def _parse_wrk(output: str) -> Load:
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else 0.0

    errors = number(r"Non-2xx or 3xx responses: (\d+)")
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(
        requests_per_second=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=_latency_ms(output, "50%"),
        p99_ms=_latency_ms(output, "99%"),
        requests=int(number(r"(\d+) requests in")),
        errors=int(errors),
        generator="wrk",
    )


def _latency_ms(output: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if found is None:
        return 0.0
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


async def _generate(spec: dict[str, object], connections: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        str(spec["url"]),
                        content=str(spec["body"]),
                        headers=spec["headers"],  # type: ignore[arg-type]
                    )
                    errors += response.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Load(len(latencies) / elapsed, at(0.5), at(0.99), len(latencies), errors, "httpx")


def main() -> None:
    parser = argparse.ArgumentParser(description="POST load without wrk; prints JSON.")
    parser.add_argument("spec", type=Path)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    spec = json.loads(arguments.spec.read_text())
    load = asyncio.run(_generate(spec, arguments.connections, arguments.seconds))
    print(json.dumps(load.__dict__))


if __name__ == "__main__":
    main()
