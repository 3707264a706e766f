from pathlib import Path

import pytest

from start_tui.backends.gguf import read_gguf
from start_tui.errors import StartTuiError


def test_the_embedded_model_reads_whole(model_path: Path):
    info = read_gguf(model_path)
    assert info.metadata["general.architecture"] == "gemma3"
    assert info.tensor_count > 100 and info.data_bytes <= info.file_bytes


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, src: None, "does not exist"),
        (lambda p, src: p.mkdir(), "is a folder"),
        (lambda p, src: p.write_bytes(b"not a model at all"), "not a GGUF file"),
        (lambda p, src: p.write_bytes(src.read_bytes()[:2_000_000]), "truncated \\(its header ends early\\)"),
        (lambda p, src: p.write_bytes(src.read_bytes()[:50_000_000]), "truncated: its tensors need"),
        (lambda p, src: p.write_bytes(b"GGUF" + (7).to_bytes(4, "little")), "GGUF version 7"),
    ],
)
def test_bad_model_files_get_one_sentence(tmp_path: Path, model_path: Path, make, message):
    p = tmp_path / "m.gguf"
    make(p, model_path)
    with pytest.raises(StartTuiError, match=message):
        read_gguf(p)
