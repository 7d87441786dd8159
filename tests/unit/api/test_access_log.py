"""The access log's writer: whole JSON lines, bounded queue, chunks that never split a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossmargin.api import access_log
from crossmargin.api.access_log import CHUNK_BYTES, AccessLogWriter


def test_lines_are_appended_as_json_and_flushed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text('{"earlier": true}\n')
    writer = AccessLogWriter(str(path))
    for number in range(500):
        writer.write({"n": number, "path": "/api/v1/ping"})
    writer.close()
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"earlier": True}
    assert [json.loads(line)["n"] for line in lines[1:]] == list(range(500))


def test_each_write_is_whole_lines_of_at_most_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []
    writer = AccessLogWriter(str(tmp_path / "access.log"))
    monkeypatch.setattr(writer, "_write", writes.append)
    for number in range(300):
        writer.write({"n": number, "pad": "x" * 100})
    writer.flush()
    writer.close()
    assert writes
    assert all(len(chunk) <= CHUNK_BYTES and chunk.endswith(b"\n") for chunk in writes)
    assert [json.loads(line)["n"] for chunk in writes for line in chunk.splitlines()] == list(range(300))


def test_a_writer_that_falls_behind_drops_lines_and_says_how_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "PENDING_MAX", 10)
    path = tmp_path / "access.log"
    writer = AccessLogWriter(str(path))
    writer._stop.set()  # hold the writer thread back so the queue fills
    writer._thread.join()
    for number in range(25):
        writer.write({"n": number})
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["n"] for line in lines if "n" in line] == list(range(10))
    assert [line["dropped"] for line in lines if "dropped" in line] == [15]
