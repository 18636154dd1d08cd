"""Config: strict decoding with key paths, defaults, secrets, and docs that cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from statuswatch.config import (
    ConfigError,
    HttpMonitor,
    load_config,
    model,
    parse_config,
    parse_duration,
    read_secret,
)
from statuswatch.config.durations import format_duration

ROOT = Path(__file__).resolve().parent.parent
INVALID = sorted((ROOT / "tests/data/invalid").glob("*.toml"))


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message>'"
    return first.removeprefix("# expect: ")


def test_there_is_an_invalid_case_per_mistake():
    assert len(INVALID) >= 20


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_config_names_the_key_path(path: Path):
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected_message(path) in str(err.value)


@pytest.mark.parametrize(
    "name", ["timeout_not_shorter", "unknown_key", "not_toml", "component_name_line_break"]
)
def test_check_config_exits_2_with_the_message(name: str):
    path = ROOT / "tests/data/invalid" / f"{name}.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "statuswatch", "check-config", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert expected_message(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "statuswatch", "check-config", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "name", ["empty", "deeply_nested", "max_redirects_too_many", "not_a_finite_number"]
)
def test_check_config_refuses_what_it_once_called_ok_or_crashed_on(name: str):
    path = ROOT / "tests/data/invalid" / f"{name}.toml"
    proc = check_config(path)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert expected_message(path) in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 4, "not UTF-8 text (byte 0x80 at offset 128)"),
        ("[site]\ntitle = 'Café'\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset"),
        (b"\x00\x01\x02ELF\x00", "not valid TOML"),
        (b"\xef\xbb\xbf", "components: none configured"),  # a UTF-8 BOM and nothing else
    ],
    ids=["binary", "latin-1", "nul-bytes", "bom-only"],
)
def test_check_config_names_a_file_that_is_not_utf8_toml(tmp_path, content: bytes, message: str):
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    proc = check_config(path)
    assert proc.returncode == 2, proc.stderr
    assert "statuswatch: config error: " in proc.stderr and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_config_warns_about_components_nothing_checks(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[components]]\nid = "api"\nname = "API"\n', encoding="utf-8")
    proc = check_config(path)
    assert proc.returncode == 0 and ": ok (0 groups, 1 components, 0 monitors)" in proc.stdout
    assert "config warning: components: no monitor checks api: shown as no data yet" in (
        proc.stderr
    )


def _int_fields() -> Iterator[tuple[type, str]]:
    for cls in vars(model).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, msgspec.Struct)
            and cls.__module__ == model.__name__
        ):
            for field in msgspec.structs.fields(cls):
                if field.type in (int, int | None):
                    yield cls, field.name


def test_every_integer_key_has_a_range():
    # A number without a range is taken at its word: 99999999999999999999 redirects, a port
    # of 70000. Add its (lowest, highest) to config/bounds.py with the key.
    from statuswatch.config.bounds import int_range

    fields = list(_int_fields())
    assert len(fields) >= 12
    missing = [f"{cls.__name__}.{name}" for cls, name in fields if int_range(cls, name) is None]
    assert missing == []


def test_example_config_is_valid_and_models_a_commerce_platform():
    config = load_config(ROOT / "config.example.toml")
    names = {c.name for c in config.components}
    assert {"Storefront API", "Checkout", "Admin", "CDN / Assets"} <= names
    storefronts = [c for c in config.components if c.group == "storefronts"]
    assert len(storefronts) == 3
    assert {m.kind for m in config.monitors} == {"http", "tcp", "tls", "dns", "push"}


def test_check_config_accepts_the_example():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "statuswatch",
            "check-config",
            "-c",
            str(ROOT / "config.example.toml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok (2 groups, 7 components, 12 monitors)" in proc.stdout


def test_monitor_defaults_are_resolved(tmp_path: Path):
    raw = {
        "defaults": {"interval": "2m", "timeout": "20s", "confirm_failures": 3},
        "components": [{"id": "api", "name": "API"}],
        "monitors": [
            {"id": "a", "kind": "http", "component": "api", "url": "http://x.test/"},
            {
                "id": "b",
                "kind": "http",
                "component": "api",
                "url": "http://x.test/",
                "interval": "30s",
                "timeout": "5s",
                "confirm_failures": 1,
            },
        ],
    }
    config = parse_config(raw, base_dir=tmp_path)
    a, b = config.monitors
    assert (a.interval, a.timeout, a.confirm_failures, a.confirm_recoveries) == (120, 20, 3, 1)
    assert (b.interval, b.timeout, b.confirm_failures) == (30, 5, 1)
    assert a.name == "a"
    assert isinstance(a, HttpMonitor) and a.expect_status == ["200-399"]
    assert Path(config.storage.path) == tmp_path / "statuswatch.db"


def test_config_is_frozen(tmp_path: Path):
    config = parse_config({}, base_dir=tmp_path)
    with pytest.raises(AttributeError):
        config.site.title = "changed"  # type: ignore[misc]


def test_all_problems_are_reported_at_once(tmp_path: Path):
    raw = {
        "site": {"timezone": "Nowhere/Else"},
        "components": [{"id": "api", "name": "API", "group": "missing"}],
    }
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base_dir=tmp_path)
    assert len(err.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("800ms", 0.8)],
)
def test_durations(text: str, seconds: float):
    assert parse_duration(text) == pytest.approx(seconds)
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "s", "5 m", "1x", "-5s", 30])
def test_bad_durations(text: object):
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(text)


def test_secrets_from_env_or_file(tmp_path: Path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n", encoding="utf-8")
    assert read_secret("TOKEN", {"TOKEN": "direct"}) == "direct"
    assert read_secret("TOKEN", {"TOKEN_FILE": str(secret)}) == "s3cret"
    assert read_secret("TOKEN", {}) is None


def _keys(struct: type, prefix: str) -> set[str]:
    """Dotted keys of a section; values that are themselves tables (credit) count as one key."""
    return {f"{prefix}.{field.encode_name}" for field in msgspec.structs.fields(struct)}


def all_config_keys() -> set[str]:
    keys = {"monitors.kind"}
    for field in msgspec.structs.fields(model.Config):
        section = field.encode_name
        if section == "monitors":
            for kind in (
                model.HttpMonitor,
                model.TcpMonitor,
                model.TlsMonitor,
                model.DnsMonitor,
                model.PushMonitor,
            ):
                keys |= _keys(kind, "monitors")
        else:
            args = getattr(field.type, "__args__", None)
            keys |= _keys(args[0] if args else field.type, section)
    return keys


def test_every_config_key_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", readme, flags=re.M))
    missing = sorted(all_config_keys() - documented)
    assert not missing, f"README's configuration reference does not explain: {missing}"
    unknown = sorted(documented - all_config_keys())
    assert not unknown, f"README documents keys that do not exist: {unknown}"


def test_every_key_in_the_example_is_explained():
    """Where the example first sets a key (or shows it commented out), a comment explains it."""
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    first: dict[str, int] = {}
    for i, line in enumerate(lines):
        match = re.match(r"^\s*#?\s*([a-z_]+)\s*=", line)
        if match and match[1] not in first:
            first[match[1]] = i
    self_explaining = {"id", "name", "kind", "component", "group", "url", "host", "description"}
    unexplained = [
        f"line {i + 1}: {key}"
        for key, i in first.items()
        if key not in self_explaining
        and "#" not in lines[i].lstrip("# ")
        and not lines[i - 1].lstrip().startswith("#")
    ]
    assert unexplained == []
