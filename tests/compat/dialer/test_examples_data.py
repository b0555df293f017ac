"""The examples data holds every example of the document, and nothing else: each curl
command (method, path and query, body) and each JSON block of ``document.md``."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from tests.compat.dialer.examples import (
    BASE_URL,
    CSV_FILE,
    ERRORS,
    EXAMPLES,
    LEAD_FIELDS,
    LEAD_RESPONSE,
    SCHEMAS,
    example,
)

DOCUMENT = Path(__file__).with_name("document.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCUMENT, flags=re.S)


def curls() -> list[tuple[str, str, Any, Any]]:
    """(method, path, body, files) of every curl command, in the document's order."""
    found = []
    for block in blocks("bash"):
        tokens = shlex.split(block.replace("\\\n", " "), comments=True)
        starts = [i for i, t in enumerate(tokens) if t.endswith("curl")]
        for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
            command = tokens[start + 1:end]
            method, url, body, files = "GET", None, None, None
            i = 0
            while i < len(command) and command[i] != "|":
                token = command[i]
                if token == "-X":
                    method, i = command[i + 1], i + 2
                elif token in {"-H", "-d", "-F"}:
                    value = command[i + 1]
                    if token == "-d":
                        body = json.loads(value)
                    elif token == "-F":
                        files = value
                    i += 2
                else:
                    url = token if token.startswith("http") else url
                    i += 1
            assert url and url.startswith(BASE_URL), command
            found.append((method, url.removeprefix(BASE_URL), body, files))
    return found


def test_every_curl_is_an_example() -> None:
    commands = curls()
    assert len(commands) == len(EXAMPLES) == 23
    for (method, path, body, files), item in zip(commands, EXAMPLES, strict=True):
        assert (item.method, item.path, item.body) == (method, path, body), item.name
        assert (files is not None) == (item.files is not None), item.name


def test_every_json_block_is_in_the_data() -> None:
    known: list[Any] = [*SCHEMAS.values(), *(e for _, e in ERRORS.values())]
    for item in EXAMPLES:
        known += [item.body, item.response]
    documented = [json.loads(b) for b in blocks("json")]
    assert len(documented) == 13
    for shown in documented:
        assert shown in known, shown


def test_the_csv_file_is_the_documents() -> None:
    (csv,) = blocks("csv")
    assert csv == CSV_FILE


def test_the_data_speaks_of_the_documents_fields() -> None:
    assert tuple(LEAD_RESPONSE) == LEAD_FIELDS
    assert example("get_lead").response == LEAD_RESPONSE
    assert {code for code, _ in ERRORS.values()} == {400, 404, 422}
