"""A fast pre-flight check of GGUF files: magic, header, metadata, and that the tensor data is all there.

llama.cpp reports a bad file with a generic failure (or worse); reading the header ourselves lets
the user hear which of "missing", "not GGUF" and "truncated" it is. Only the metadata and tensor
infos are read, never the weights.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from start_tui.errors import StartTuiError

# ggml type id -> (block size in elements, bytes per block), as in gguf-py's GGML_QUANT_SIZES
_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),
    1: (1, 2),
    2: (32, 18),
    3: (32, 20),
    6: (32, 22),
    7: (32, 24),
    8: (32, 34),
    9: (32, 40),
    10: (256, 84),
    11: (256, 110),
    12: (256, 144),
    13: (256, 176),
    14: (256, 210),
    15: (256, 292),
    16: (256, 66),
    17: (256, 74),
    18: (256, 98),
    19: (256, 50),
    20: (32, 18),
    21: (256, 110),
    22: (256, 82),
    23: (256, 136),
    24: (1, 1),
    25: (1, 2),
    26: (1, 4),
    27: (1, 8),
    28: (1, 8),
    29: (256, 56),
    30: (1, 2),
    34: (256, 54),
    35: (256, 66),
    39: (32, 17),
    40: (64, 36),
    41: (128, 18),
}
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class _Truncated(Exception):
    pass


@dataclass
class GGUFInfo:
    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any]
    data_bytes: int
    file_bytes: int
    shapes: dict[str, tuple[int, ...]]
    """Each tensor's name and shape (ggml order: the input dimension first)."""
    array_lengths: dict[str, int]
    """The length of each array in the metadata (tokenizer.ggml.tokens: the vocabulary's size)."""

    def fingerprint(self) -> str:
        """What a LoRA adapter must agree with: the architecture, every tensor's name and shape, the vocabulary."""
        h = hashlib.sha256(str(self.metadata.get("general.architecture")).encode())
        for name in sorted(self.shapes):
            h.update(f"{name}:{list(self.shapes[name])};".encode())
        h.update(f"vocab:{self.array_lengths.get('tokenizer.ggml.tokens', 0)}".encode())
        return h.hexdigest()[:32]


class _Reader:
    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.array_length = 0

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise _Truncated()
        return data

    def unpack(self, fmt: str) -> Any:
        s = struct.Struct("<" + fmt)
        return s.unpack(self.read(s.size))[0]

    def string(self) -> str:
        n = self.unpack("Q")
        if n > 1 << 30:
            raise ValueError("a string length in the header is implausible")
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, count = self.unpack("I"), self.unpack("Q")
            self.array_length = count
            if itype in _SCALARS:
                size = struct.calcsize("<" + _SCALARS[itype])
                self.read(size * count)  # skipped: token scores and the like
                return None
            if itype == _STRING:
                items = [self.string() for _ in range(count)]
                return items if keep else None
            raise ValueError(f"unsupported array type {itype}")
        raise ValueError(f"unknown metadata value type {vtype}")


def read_gguf(path: str | Path, what: str = "model", keep: frozenset[str] = frozenset()) -> GGUFInfo:
    """Check a GGUF file and return its metadata; raise StartTuiError with one sentence if it is bad.
    Arrays of strings are skipped, except those named in `keep` (the vocabulary: `tokenizer.ggml.tokens`)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise StartTuiError(f"The {what} file {str(p)!r} does not exist.")
    if p.is_dir():
        raise StartTuiError(f"The {what} path {str(p)!r} is a folder; give the .gguf file itself.")
    size = p.stat().st_size
    try:
        with p.open("rb") as f:
            r = _Reader(f)
            if f.read(4) != b"GGUF":
                raise StartTuiError(f"The {what} file {str(p)!r} is not a GGUF file (it lacks the GGUF magic bytes).")
            version = r.unpack("I")
            if version not in (2, 3):
                raise StartTuiError(
                    f"The {what} file {str(p)!r} has GGUF version {version}; versions 2 and 3 are read."
                )
            n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
            metadata: dict[str, Any] = {}
            lengths: dict[str, int] = {}
            for _ in range(n_kv):
                key = r.string()
                vtype = r.unpack("I")
                value = r.value(vtype, keep=key in keep)
                if value is not None:
                    metadata[key] = value
                if vtype == _ARRAY:
                    lengths[key] = r.array_length
            end = 0
            shapes: dict[str, tuple[int, ...]] = {}
            for _ in range(n_tensors):
                name = r.string()
                n_dims = r.unpack("I")
                dims = [r.unpack("Q") for _ in range(n_dims)]
                shapes[name] = tuple(dims)
                ttype, offset = r.unpack("I"), r.unpack("Q")
                elements = 1
                for d in dims:
                    elements *= d
                block, nbytes = _TYPE_SIZES.get(ttype, (1, 0))
                end = max(end, offset + elements // block * nbytes)
            alignment = int(metadata.get("general.alignment", 32))
            data_start = -(-f.tell() // alignment) * alignment
    except _Truncated:
        raise StartTuiError(f"The {what} file {str(p)!r} is truncated (its header ends early).") from None
    except (ValueError, struct.error) as exc:
        raise StartTuiError(f"The {what} file {str(p)!r} is a corrupt GGUF file ({exc}).") from None
    except OSError as exc:
        raise StartTuiError(f"The {what} file {str(p)!r} cannot be read ({exc.strerror}).") from None
    if data_start + end > size:
        raise StartTuiError(
            f"The {what} file {str(p)!r} is truncated: its tensors need {data_start + end} bytes "
            f"and the file has {size}."
        )
    return GGUFInfo(p, version, n_tensors, metadata, end, size, shapes, lengths)


FINGERPRINT_KEY = "adapter.start_tui.base_fingerprint"
BASE_NAME_KEY = "adapter.start_tui.base_name"


def check_adapter(model: GGUFInfo, adapter_path: str | Path) -> GGUFInfo:
    """One sentence when the adapter cannot go on `model`: not a LoRA GGUF, another architecture, another base."""
    a = read_gguf(adapter_path, what="adapter")
    name, m_name = a.path.name, model.path.name
    if a.metadata.get("general.type") != "adapter" or a.metadata.get("adapter.type") != "lora":
        raise StartTuiError(
            f"{str(a.path)!r} is a GGUF file but not a LoRA adapter (start-tui train export makes one)."
        )
    a_arch, m_arch = a.metadata.get("general.architecture"), model.metadata.get("general.architecture")
    if a_arch != m_arch:
        raise StartTuiError(f"The adapter {name} is for a {a_arch} model and {m_name} is a {m_arch} model.")
    want = a.metadata.get(FINGERPRINT_KEY)
    if want is not None and want != model.fingerprint():
        raise StartTuiError(
            f"The adapter {name} was trained over {a.metadata.get(BASE_NAME_KEY)!r} and {m_name} is another model "
            "(its tensors or vocabulary differ); give that model, or run without the adapter."
        )
    for tensor, dims in a.shapes.items():
        base = tensor.rsplit(".", 1)[0]
        if base not in model.shapes:
            raise StartTuiError(f"The adapter {name} adapts {base}, which {m_name} does not have.")
        want_in, want_out = model.shapes[base][0], model.shapes[base][1]
        if (tensor.endswith(".lora_a") and dims[0] != want_in) or (tensor.endswith(".lora_b") and dims[1] != want_out):
            shape = list(model.shapes[base])
            raise StartTuiError(f"The adapter {name} does not fit {m_name}: {tensor} is {list(dims)} against {shape}.")
    return a
