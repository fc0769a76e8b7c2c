"""The command line, driven through Typer's runner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from config.settings import CONFIG_DIR
from flows.cli import app

runner = CliRunner()


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def run_cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a child process: exit code and stderr as a user sees them."""
    return subprocess.run(
        [sys.executable, "-m", "flows", *args],
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )


def _subcommands(command: object) -> dict[str, object]:
    # Typer ships its own copy of click, so look for groups by shape, not by class.
    commands = getattr(command, "commands", None)
    return dict(commands) if isinstance(commands, dict) else {}


def all_commands() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in _subcommands(command).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def test_the_command_tree_is_complete() -> None:
    names = {" ".join(path) for path in all_commands()}
    expected = {"run", "demo", "items", "detect", "sources list", "sources sync", "db upgrade"}
    assert expected <= names


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "newsdesk")
def test_every_command_has_help(path: list[str]) -> None:
    code, output = invoke(*path, "--help")
    assert code == 0
    assert "Usage:" in output
    command: object = get_command(app)
    for name in path:
        command = _subcommands(command)[name]
    assert getattr(command, "help", None), f"{' '.join(path)} has no help text"


def test_demo_twice_stores_samples_once(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"

    code, first = invoke("demo", "--database", database, "--local")
    assert code == 0, first
    # The global option names the same database.
    code, second = invoke("--database", database, "demo", "--local")
    assert code == 0, second

    new_first = int(_row(first, "new items"))
    assert new_first >= 15
    assert _row(second, "new items") == "0"
    # The sample subscribers got their alerts once: four immediate emails and one digest.
    assert "Emails captured by the local SMTP sink: 5" in first
    assert "[newsdesk] Digest for" in first
    assert "Emails captured by the local SMTP sink: 0" in second
    assert _row(second, "not modified (304)") == _row(second, "sources polled")
    assert "No new items" in second

    code, listed = invoke("--database", database, "items", "--json", "--limit", "1000")
    rows = [json.loads(line) for line in listed.splitlines()]
    # One sample story is linked from two feeds: it is stored once.
    assert len(rows) == new_first
    assert len({row["url"] for row in rows}) == len(rows)
    assert sum(row["text_source"] == "summary" for row in rows) == 1
    # Every sample item carries exactly the countries its author listed for it.
    expected = yaml.safe_load((CONFIG_DIR / "samples" / "expected_countries.yaml").read_text())
    found = {row["url"].rsplit("/", 1)[-1].removesuffix(".html"): row for row in rows}
    assert set(found) == set(expected)
    for slug, countries in expected.items():
        assert sorted(found[slug]["countries"]) == countries, slug

    code, syria = invoke("--database", database, "items", "--country", "sy", "--json")
    assert code == 0
    assert syria.strip()
    assert all("SY" in json.loads(line)["countries"] for line in syria.splitlines())


def _row(output: str, label: str) -> str:
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
        if cells and cells[0] == label:
            return cells[-1]
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_detect_prints_mentions_as_json() -> None:
    code, output = invoke(
        "detect", "-", "--json", input="Talks in Islamabad: Pakistan and Syria agreed."
    )
    assert code == 0
    data = json.loads(output)
    assert {c["country"] for c in data["countries"]} == {"PK", "SY"}
    assert any(m["surface"] == "Islamabad" and m["kind"] == "capital" for m in data["mentions"])


def test_items_rejects_a_bad_since(tmp_path: Path) -> None:
    result = run_cli("--database", f"sqlite:///{tmp_path}/x.db", "items", "--since", "yesterday")
    assert result.returncode == 1
    assert "error: --since: 'yesterday' is not a duration" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_catalogue_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    catalogue = tmp_path / "sources.yaml"
    catalogue.write_text("sources:\n  - id: x\n    kind: radio\n", encoding="utf-8")
    result = run_cli(
        "--database", f"sqlite:///{tmp_path}/x.db", "--sources", str(catalogue), "sources", "sync"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: {catalogue}:2: sources.0.name: Field required" in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(
        "--database",
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
        "sources",
        "list",
    )
    assert result.returncode == 1
    assert "error: cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_detect_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("detect", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert "error: cannot read" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/notdb.db", "error: cannot reach the database sqlite:///"),
        ("mysql://x/y", "error: no driver for 'mysql'"),
        ("nonsense", "error: invalid database URL 'nonsense'"),
    ],
)
def test_bad_database_settings_are_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    (tmp_path / "notdb.db").write_text("this is not a database", encoding="utf-8")
    result = run_cli("--database", url.format(tmp=tmp_path), "items")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing the user stored is touched.
    assert (tmp_path / "notdb.db").read_text(encoding="utf-8") == "this is not a database"


def _jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_detect_batch_writes_one_line_per_input_in_order(tmp_path: Path) -> None:
    source = _jsonl(
        tmp_path / "in.jsonl",
        {"id": "a", "text": "Talks in Islamabad: Pakistan and Syria agreed."},
        {"id": 2, "text": "Nothing to see here.", "title": "Weather"},
        {"id": "c", "text": "La France et l'Allemagne ont signé.", "language": "fr"},
    )
    target = tmp_path / "out.jsonl"
    code, output = invoke("detect", "--batch", str(source), "--output", str(target))
    assert code == 0, output
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["a", 2, "c"]
    assert [{c["country"] for c in row["countries"]} for row in rows] == [
        {"PK", "SY"},
        set(),
        {"FR", "DE"},
    ]
    first = rows[0]
    assert set(first["countries"][0]) == {
        "country",
        "count",
        "first_offset",
        "kind",
        "salience",
        "snippet",
    }
    assert {"country": "PK", "start": 9, "end": 18, "surface": "Islamabad", "kind": "capital"} in (
        first["mentions"]
    )
    assert not list(tmp_path.glob(".*partial"))

    # Without --output the same lines go to standard output.
    code, output = invoke("detect", "--batch", str(source))
    assert code == 0
    assert [json.loads(line) for line in output.splitlines()] == rows


def test_detect_batch_reads_standard_input() -> None:
    code, output = invoke(
        "detect", "--batch", "-", input='{"id": "x", "text": "Protests in Tehran."}\n'
    )
    assert code == 0
    row = json.loads(output)
    assert row["id"] == "x"
    assert [c["country"] for c in row["countries"]] == ["IR"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 2, "text": ', "in.jsonl:2: invalid JSON: Expecting value at column 19"),
        ('{"id": 2}', 'in.jsonl:2: "text" is missing'),
        ('{"id": 2, "text": 7}', 'in.jsonl:2: "text" is not a string'),
        ('{"text": "Syria"}', 'in.jsonl:2: "id" is missing'),
        ('["Syria"]', "in.jsonl:2: expected a JSON object, got list"),
    ],
)
def test_detect_batch_bad_line_is_one_clear_error(tmp_path: Path, line: str, message: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(f'{{"id": 1, "text": "Syria"}}\n{line}\n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    target.write_text("earlier results\n", encoding="utf-8")
    result = run_cli("detect", "--batch", str(source), "-o", str(target))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path}/{message}"
    assert "Traceback" not in result.stderr
    # A failed batch leaves an existing output file as it was, and no temporary file.
    assert target.read_text(encoding="utf-8") == "earlier results\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_detect_country_option_restricts_the_output(tmp_path: Path) -> None:
    text = "Talks in Islamabad: Pakistan and Syria agreed, Iran said."
    code, output = invoke("detect", "-", "--json", "--country", "sy", "-c", "IR", input=text)
    assert code == 0
    data = json.loads(output)
    assert [c["country"] for c in data["countries"]] == ["SY", "IR"]
    assert {m["country"] for m in data["mentions"]} == {"SY", "IR"}

    source = _jsonl(tmp_path / "in.jsonl", {"id": 1, "text": text})
    code, output = invoke("detect", "--batch", str(source), "--country", "PK")
    assert code == 0
    row = json.loads(output)
    assert [c["country"] for c in row["countries"]] == ["PK"]
    assert [m["surface"] for m in row["mentions"]] == ["Islamabad", "Pakistan"]


def test_detect_rejects_a_bad_country_code() -> None:
    result = run_cli("detect", "-", "--country", "Syria", input="Syria")
    assert result.returncode == 1
    assert "error: --country: 'Syria' is not a two-letter ISO 3166-1 code" in result.stderr


def test_detect_kind_filter_and_a_bad_kind() -> None:
    code, output = invoke(
        "detect", "-", "--json", "--kind", "city", input="Aleppo is in Syria, near Turkey."
    )
    assert code == 0
    assert [(m["surface"], m["kind"]) for m in json.loads(output)["mentions"]] == [
        ("Aleppo", "city")
    ]
    result = run_cli("detect", "-", "--kind", "town", input="Syria")
    assert result.returncode == 1
    assert "error: --kind: 'town' is not one of name, demonym, capital, city" in result.stderr


def test_subscribers_add_list_update_preview_remove(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'subs.db'}"
    code, out = invoke(
        "--database",
        database,
        "subscribers",
        "add",
        "Desk@Example.org",
        "--countries",
        "Syria,PK",
        "--countries",
        "the United States",
        "--name",
        "Desk",
    )
    assert code == 0, out
    code, out = invoke("--database", database, "subscribers", "list", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["email"] == "desk@example.org"
    assert row["countries"] == ["SY", "PK", "US"]
    assert row["mode"] == "immediate"

    code, out = invoke(
        "--database",
        database,
        "subscribers",
        "update",
        "desk@example.org",
        "--mode",
        "digest",
        "--digest-hour",
        "7",
        "--timezone",
        "Asia/Karachi",
    )
    assert code == 0, out
    code, out = invoke("--database", database, "subscribers", "list", "--json")
    row = json.loads(out)
    assert (row["mode"], row["digest_hour"], row["timezone"]) == ("digest", 7, "Asia/Karachi")

    code, out = invoke("--database", database, "alerts", "preview", "desk@example.org")
    assert code == 0
    assert "Nothing is waiting for desk@example.org" in out

    code, out = invoke("--database", database, "subscribers", "remove", "desk@example.org")
    assert code == 0
    code, out = invoke("--database", database, "subscribers", "list", "--json")
    assert out.strip() == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", "not-an-email", "--countries", "SY"],
            "error: email: 'not-an-email' is not an email address",
        ),
        (
            ["add", "a@b.org", "--countries", "Atlantis"],
            "error: a@b.org: unknown country 'Atlantis'",
        ),
        (
            ["add", "a@b.org", "--countries", "SY", "--timezone", "Mars/Base"],
            "unknown time zone 'Mars/Base'",
        ),
        (
            ["add", "a@b.org", "--countries", "SY", "--mode", "hourly"],
            "error: mode: Input should be",
        ),
        (["update", "nobody@b.org", "--mode", "digest"], "error: no subscriber nobody@b.org"),
    ],
)
def test_bad_subscriber_input_is_one_clear_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("--database", f"sqlite:///{tmp_path}/s.db", "subscribers", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
