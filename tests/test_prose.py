"""Every result a notebook's prose reports appears in that notebook's stored outputs.

A sentence that quotes a number of this course (an accuracy, an error, a forecast, a
percentage) must find it in an output of the same notebook, or in its code (a setting such as
a learning rate); numbers from papers are exempt when their sentence cites the paper.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))

#: Decimal numbers and percentages: the form results take in prose ("0.938", "31%", "1.3").
NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:,\d{3})*(?:\.\d+)?%|(?<![\w.])[+-]?\d+\.\d+(?![\w.])")
#: What is not prose: code, maths, links' targets, HTML tags.
NOT_PROSE = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)]*\)|<[^>\n]*>",
                       re.DOTALL)
#: A sentence that cites a paper: "Simonyan & Zisserman (2014)", "et al.", "(Table 2)".
CITES = re.compile(r"et al\.|\(\d{4}[a-z]?\)|\b\d{4}[a-z]?\)|\b(?:19|20)\d\d\b|\bTables? \d|"
                   r"\bpaper\b|\breports?\b|\bpublished\b", re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*])|\n\s*[-*] ")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def sentences(markdown: str) -> list[str]:
    """The sentences of ``markdown``; a table is one, with the paragraph that introduces it."""
    pieces, previous = [], ""
    for paragraph in NOT_PROSE.sub(" ", markdown).split("\n\n"):
        if paragraph.lstrip().startswith("|"):
            pieces.append(previous + "\n" + paragraph)
        else:
            pieces += SENTENCE.split(paragraph)
        previous = paragraph
    return [piece for piece in pieces if piece.strip()]


def prose(notebook: dict) -> list[str]:
    """The markdown of every cell and every speaker note, as sentences."""
    parts = [text(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    parts += [text(c["metadata"]["speaker_notes"]) for c in notebook["cells"]
              if "speaker_notes" in c.get("metadata", {})]
    return [sentence for part in parts for sentence in sentences(part)]


def shown(notebook: dict) -> str:
    """Everything the notebook shows besides its prose: its code and its outputs' text."""
    pieces = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        pieces.append(text(cell["source"]))
        for output in cell.get("outputs", []):
            pieces.append(text(output.get("text", "")))
            pieces += [text(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(pieces)


def appears(number: str, shown_numbers: set[str]) -> bool:
    """Whether ``number`` is shown, as printed or rounded from a longer number that is."""
    if number in shown_numbers:
        return True
    value = number.rstrip("%").replace(",", "")
    decimals = len(value.partition(".")[2])
    return any(candidate.endswith("%") == number.endswith("%")
               and len(candidate.rstrip("%").partition(".")[2]) > decimals
               and f"{float(candidate.rstrip('%').replace(',', '')):.{decimals}f}" == value
               for candidate in shown_numbers)


def unshown_results(notebook: dict) -> list[str]:
    shown_numbers = set(NUMBER.findall(shown(notebook)))
    return [f"{number!r} in: {sentence.strip()[:160]}"
            for sentence in prose(notebook) if not CITES.search(sentence)
            for number in NUMBER.findall(sentence) if not appears(number, shown_numbers)]


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request) -> dict:
    return load(request.param)


def test_every_number_in_the_prose_appears_in_an_output_or_is_cited(notebook):
    assert unshown_results(notebook) == []


#: A 90-minute lab: the markdown a student reads before the "Under the hood" section.
MAIN_PATH_WORDS = 3000
BACK_MATTER = re.compile(r"#+ (?:Under the hood|References)\b")


def main_path_words(notebook: dict) -> int:
    words = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        if BACK_MATTER.match(text(cell["source"]).lstrip()):
            break
        words += len(text(cell["source"]).split())
    return words


def test_the_main_path_reads_in_a_90_minute_lab(notebook):
    assert main_path_words(notebook) <= MAIN_PATH_WORDS
