"""Finding submissions: plain folders, zips and answers files; Canvas's flat bulk download; and
Gradescope's export with its metadata file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from grader.batch.discover import discover

ANSWERS = b"q4_lenet_params: 61706\n"
GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@uni.example
  :created_at: 2026-01-10 12:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.9E1
  :status: processed
submission_102:
  :submitters:
  - :name: Alan Turing
    :sid: 1002
    :email: alan@uni.example
  :score:
submission_103:
  :submitters:
  - :name: Gone Student
    :email: gone@uni.example
"""


def write(path: Path, data: bytes = ANSWERS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_plain_layout_finds_folders_zips_and_answers_files(tmp_path: Path) -> None:
    write(tmp_path / "alice" / "answers.yaml")
    with zipfile.ZipFile(tmp_path / "bob.zip", "w") as archive:
        archive.writestr("bob/answers.yaml", ANSWERS)
    write(tmp_path / "carol.yaml")
    write(tmp_path / "dave.json", b"{}")
    write(tmp_path / "README.md", b"# notes")
    write(tmp_path / ".DS_Store", b"junk")
    found = discover(tmp_path)
    assert [(i.key, i.default_id) for i in found.items] == [
        ("alice", "alice"), ("bob.zip", "bob"), ("carol.yaml", "carol"), ("dave.json", "dave")]
    assert found.ignored == ["README.md: not a folder, a .zip, an answers file or a notebook"]
    assert all(i.source.layout == "plain" and len(i.sha256) == 64 for i in found.items)


def test_the_digest_follows_the_content(tmp_path: Path) -> None:
    write(tmp_path / "alice" / "answers.yaml")
    before = discover(tmp_path).items[0].sha256
    write(tmp_path / "alice" / "answers.yaml", b"q4_lenet_params: 1\n")
    after = discover(tmp_path).items[0].sha256
    assert before != after


def test_the_output_folder_inside_the_root_is_not_a_submission(tmp_path: Path) -> None:
    write(tmp_path / "alice" / "answers.yaml")
    (tmp_path / "out" / "reports").mkdir(parents=True)
    assert [i.key for i in discover(tmp_path, exclude=(tmp_path / "out",)).items] == ["alice"]


def test_a_fifo_is_ignored_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    found = discover(tmp_path)
    assert found.items == [] and found.ignored == ["pipe.yaml: not a regular file or folder"]


@pytest.mark.parametrize(
    ("files", "expected_names", "graded_as"),
    [
        (["smithjohn_4242_9001_answers.yaml"], None, "answers.yaml"),
        (["smithjohn_4242_9001_hw2.zip"], None, "hw2.zip"),
        (["smithjohn_4242_9001_answers-1.yaml", "smithjohn_4242_9001_model.pt"],
         ["answers.yaml", "model.pt"], None),
        (["smithjohn_4242_9001_my_hw.yml", "smithjohn_4242_9001_gradient.py"], ["answers.yml", "gradient.py"], None),
        (["smithjohn_4242_9001_answers.yaml", "smithjohn_4242_9001_notes.json"], ["answers.yaml", "notes.json"], None),
    ],
    ids=["one-answers-file", "one-zip", "renamed-resubmission", "answers-under-another-name", "answers-kept"],
)
def test_canvas_files_of_one_student_make_one_submission(
    tmp_path: Path, files: list[str], expected_names: list[str] | None, graded_as: str | None,
) -> None:
    for name in files:
        write(tmp_path / name)
    [item] = discover(tmp_path).items
    assert item.key == "canvas:4242" and item.default_id == "smithjohn_4242"
    assert item.source.layout == "canvas" and item.source.lms_user_id == "4242"
    assert item.source.lms_submission_id == "9001" and item.source.late is False
    if graded_as is not None:
        assert item.path is not None and item.path.name.endswith(graded_as) and item.files == ()
    else:
        assert item.path is None and sorted(f.name for f in item.files) == sorted(expected_names or [])


def test_canvas_late_marker_and_separate_students(tmp_path: Path) -> None:
    write(tmp_path / "smithjohn_LATE_4242_9001_answers.yaml")
    write(tmp_path / "doejane_77_9002_answers.yaml")
    write(tmp_path / "doejane_77_9002_model.pt", b"weights")
    items = {i.key: i for i in discover(tmp_path).items}
    assert set(items) == {"canvas:4242", "canvas:77"}
    assert items["canvas:4242"].source.late is True and items["canvas:77"].source.late is False
    assert items["canvas:77"].source.name == "doejane"


def test_gradescope_export_reads_the_submitters(tmp_path: Path) -> None:
    export = tmp_path / "assignment_55_export"
    write(export / "submission_metadata.yml", GRADESCOPE_METADATA.encode())
    write(export / "submission_101" / "answers.yaml")
    write(export / "submission_102" / "answers.yaml")
    write(export / "loose" / "answers.yaml")
    found = discover(tmp_path)  # the export's own top folder is descended into
    items = {i.key: i for i in found.items}
    assert set(items) == {"gradescope:submission_101", "gradescope:submission_102", "loose"}
    ada = items["gradescope:submission_101"]
    assert (ada.default_id, ada.source.name, ada.source.email, ada.source.sid) == (
        "1001", "Ada Lovelace", "ada@uni.example", "1001")
    assert items["gradescope:submission_102"].source.sid == "1002"
    assert found.ignored == ["submission_103: named in submission_metadata.yml but has no folder"]


def test_unreadable_gradescope_metadata_falls_back_to_plain_folders(tmp_path: Path) -> None:
    write(tmp_path / "submission_metadata.yml", b"submission_1: [unclosed\n")
    write(tmp_path / "submission_1" / "answers.yaml")
    found = discover(tmp_path)
    assert [i.key for i in found.items] == ["submission_1"]
    assert "cannot be read" in found.ignored[0]
