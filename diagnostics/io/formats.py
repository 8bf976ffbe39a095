"""Answer files by format: detection by content, size limits, XLSX (calamine), CSV as Excel writes it.

See :mod:`diagnostics.collect.readers` for the formats accepted; this module finds a file's
format, refuses spreadsheet bombs in bounded time and memory (:class:`Limits`) and turns CSV and
XLSX bytes into raw cells.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UnreadableFileError

__all__ = ["Limits", "DEFAULT_LIMITS", "detect_format", "decode_text", "decode_lines", "zipped_csv"]


def _fail(path: Path, what: str):
    raise UnreadableFileError(f"Le fichier « {path.name} » ne peut pas être lu : {what}.", file=path)


def detect_format(path: str | Path) -> str:
    """Return ``"xlsx"``, ``"sav"``, ``"dta"``, ``"csv"`` or ``"csvzip"`` (a zip of CSV tables, as
    ODK Central's ``.csv.zip``) from the first bytes of the file.

    Raises
    ------
    UnreadableFileError
        Nonexistent path, directory, empty file, old ``.xls``, zip that is not a workbook,
        or binary content that is none of the above (image, PDF…).
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableFileError(f"Le fichier « {path} » n'existe pas : vérifiez le chemin et le nom.",
                                  file=path)
    if path.is_dir():
        raise UnreadableFileError(f"« {path} » est un dossier, pas un fichier de réponses.", file=path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise UnreadableFileError(f"Le fichier « {path.name} » ne peut pas être ouvert ({exc.strerror}).",
                                  file=path) from exc
    if not head.strip():
        _fail(path, "il est vide")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            _fail(path, "c'est une archive ZIP endommagée")
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            _fail(path, "c'est un classeur LibreOffice (.ods) ; enregistrez-le au format Excel .xlsx ou CSV")
        if any(n.lower().endswith(".csv") for n in names):
            return "csvzip"                 # ODK Central's « .csv.zip » download
        _fail(path, "c'est une archive ZIP sans tableau CSV, pas un classeur Excel .xlsx")
    if head[:4] in (b"$FL2", b"$FL3"):
        return "sav"
    if head.startswith(b"<stata_dta>") or (len(head) > 2 and head[0] in (104, 105, 108, 110, 111, 112, 113, 114, 115)
                                             and head[1] in (1, 2) and head[2] == 1):
        return "dta"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        _fail(path, "c'est un ancien classeur Excel (.xls) ; enregistrez-le au format .xlsx ou CSV")
    kinds = {b"\x89PNG": "une image PNG", b"\xff\xd8\xff": "une image JPEG", b"GIF8": "une image GIF",
             b"%PDF": "un document PDF", b"\x1f\x8b": "une archive compressée (gzip)"}
    for magic, what in kinds.items():
        if head.startswith(magic):
            _fail(path, f"c'est {what}, pas un tableau de réponses (CSV, Excel, SPSS ou Stata)")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if not utf16 and (b"\x00" in head or control > 0.01 * len(head)):
        _fail(path, "c'est un fichier binaire, pas un tableau de réponses (CSV, Excel, SPSS ou Stata)")
    return "csv"


# --------------------------------------------------------------------------- limits

@dataclass(frozen=True)
class Limits:
    """What a reader accepts before parsing a file (spreadsheet bombs, runaway exports).

    Attributes
    ----------
    max_rows : int
        Rows of answers (default 2 000 000).
    max_columns : int
        Columns (default 100 000: a guard only; the work is bounded by ``max_cells`` and
        ``max_bytes``, so that a wide export, a long form with every multiple choice split in
        0/1 columns, is read).
    max_bytes : int
        Size of a text file, or decompressed size of the members of a workbook (default 500 Mo).
    max_cells : int
        Rows × columns of a CSV (default 100 000 000: read into categories, a few bytes a cell;
        10^6 answers of the example's 92 columns are checked in under 2 Go,
        ``benchmarks/bench_check.py``).
    max_workbook_cells : int
        Rows × columns of a workbook sheet as declared or as its cell references reach (default
        50 000 000: calamine allocates that grid as Python objects, about 20 bytes a cell).
    max_cell_chars : int
        Characters of one text cell of a workbook, shared or inline (default 32 767, the most an
        Excel cell holds: Microsoft, « Excel specifications and limits »,
        https://support.microsoft.com/office/excel-specifications-and-limits-1672b34d-7043-467e-8e27-269d656771c3).

    Notes
    -----
    A workbook is checked from its zip directory (declared sizes of the members) and from its
    sheet XML, read as a stream (declared ``<dimension>``, highest row and column a cell names),
    before any parser allocates a grid: a 3 Ko file with one cell at ``XFD1048576`` is refused in
    a fraction of a second instead of filling the memory.
    """

    max_rows: int = 2_000_000
    max_columns: int = 100_000
    max_bytes: int = 500 * 1024 ** 2
    max_cells: int = 100_000_000
    max_workbook_cells: int = 50_000_000
    max_cell_chars: int = 32_767


DEFAULT_LIMITS = Limits()


def fmt_bytes(n: int) -> str:
    from .. import fmt
    return f"{fmt.number(n / 1024 ** 2, 1)} Mo"


def fmt_number(n: int) -> str:
    from .. import fmt
    return fmt.number(n)


def _too_big(path: Path, what: str, limits: Limits):
    from .. import fmt
    raise UnreadableFileError(
        f"Le fichier « {path.name} » est refusé : {what}, au-delà de ce que le lecteur accepte "
        f"({fmt.number(limits.max_rows)} lignes, {fmt.number(limits.max_cells)} cellules "
        f"(classeur : {fmt.number(limits.max_workbook_cells)}), "
        f"{fmt.number(limits.max_bytes / 1024 ** 2, 0)} Mo décompressés, "
        f"{fmt.number(limits.max_cell_chars)} caractères par cellule) ; découpez-le, ou, si le fichier est "
        "sûr, relevez ces limites (dls check ou dls indicators --limite-lignes, --limite-cellules, --limite-taille ; "
        "paramètre limits de validate et read_answers).", file=path)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_REF_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_RE = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"')
_DIM_RE = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,3})?([0-9]{1,7})?:?([A-Z]{1,3})?([0-9]{1,7})?"')


class _TextRuns:
    """Longest text between two tags of a streamed XML member, checked against ``max_cell_chars``.

    Fed chunk by chunk; keeps at most :attr:`cap` bytes of a running text.  A text longer than
    ``max_cell_chars`` bytes is decoded and unescaped (``&amp;`` is one character) to count its
    characters exactly; one of more than :attr:`cap` bytes is refused on its size.
    """

    def __init__(self, limits: Limits, path: Path, where: str):
        self.limit, self.path, self.where, self.limits = limits.max_cell_chars, path, where, limits
        self.cap = 64 * self.limit + 1024
        self.carry = b""

    def feed(self, chunk: bytes, final: bool = False) -> None:
        pieces = (self.carry + chunk).split(b"<")
        self.carry = b"" if final else pieces.pop()
        if len(self.carry) > self.cap:
            self._check(self.carry[:self.cap], overflow=True)
        for piece in pieces:
            if len(piece) > self.limit:
                self._check(piece)

    def _check(self, piece: bytes, overflow: bool = False) -> None:
        import html

        text = piece[piece.find(b">") + 1:]
        if len(text) <= self.limit:
            return
        chars = len(html.unescape(text[:self.cap].decode("utf-8", "ignore")))
        if chars > self.limit:
            _too_big(self.path, f"un texte de {self.where} compte plus de {fmt_number(self.limit)} caractères, "
                                "la limite d'une cellule Excel", self.limits)
        if overflow or len(text) > self.cap:
            _too_big(self.path, f"un texte de {self.where} occupe plus de {fmt_bytes(self.cap)}", self.limits)


def _check_shared_strings(z: zipfile.ZipFile, limits: Limits, path: Path) -> None:
    """Stream ``xl/sharedStrings.xml``: refuse a text longer than an Excel cell holds."""
    runs = _TextRuns(limits, path, "xl/sharedStrings.xml (les textes partagés du classeur)")
    with z.open("xl/sharedStrings.xml") as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            runs.feed(chunk)
        runs.feed(b"", final=True)


def _sheet_extent(z: zipfile.ZipFile, member: str, limits: Limits, path: Path) -> tuple[int, int]:
    """Highest row and column a sheet names (declared dimension and cell references), streamed;
    an inline text longer than an Excel cell holds is refused."""
    max_row = max_col = 0
    tail = b""
    seen = 0
    runs = _TextRuns(limits, path, "sa feuille")
    with z.open(member) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                runs.feed(b"", final=True)
                break
            runs.feed(chunk)
            seen += len(chunk)
            if seen > limits.max_bytes:
                _too_big(path, f"sa feuille dépasse {fmt_bytes(limits.max_bytes)} une fois décompressée", limits)
            buf = tail + chunk
            if max_row == 0 and b"dimension" in buf[:8192]:
                m = _DIM_RE.search(buf)
                if m and m.group(3) and m.group(4):
                    d_rows, d_cols = int(m.group(4)), _column_number(m.group(3).decode())
                    if d_rows > limits.max_rows + 1 or d_cols > limits.max_columns or \
                            d_rows * d_cols > limits.max_workbook_cells:
                        _too_big(path, f"sa feuille déclare {fmt_number(d_rows)} lignes × {fmt_number(d_cols)} "
                                       "colonnes", limits)
            for m in _REF_RE.finditer(buf):
                max_col = max(max_col, _column_number(m.group(1).decode()))
                max_row = max(max_row, int(m.group(2)))
            for m in _ROW_RE.finditer(buf):
                max_row = max(max_row, int(m.group(1)))
            tail = buf[-256:]
            if max_row > limits.max_rows + 1 or max_col > limits.max_columns or \
                    max_row * max_col > limits.max_workbook_cells:
                _too_big(path, f"sa feuille s'étend jusqu'à la ligne {fmt_number(max_row)} et la colonne "
                               f"{fmt_number(max_col)}", limits)
    return max_row, max_col


def _check_workbook(path: Path, limits: Limits) -> dict[str, str]:
    """Check a workbook's zip before parsing; return {sheet name: sheet XML member}."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > limits.max_bytes:
                _too_big(path, f"il occupe {fmt_bytes(total)} une fois décompressé", limits)
            names = {i.filename for i in infos}
            sheets = _sheet_members(z, names)
            if "xl/sharedStrings.xml" in names:
                _check_shared_strings(z, limits, path)
            for member in sheets.values():
                if member in names:
                    _sheet_extent(z, member, limits, path)
            return sheets
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        _fail(path, f"le classeur Excel est endommagé ({type(exc).__name__})")


def _sheet_members(z: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet name → XML member, from ``xl/workbook.xml`` and its relationships."""
    wb = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    targets = {m.group(1).decode(): m.group(2).decode()
               for m in re.finditer(rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode()
                    for m in re.finditer(rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(rb'<(?:\w+:)?sheet\b([^>]*)/?>', wb):
        attrs = m.group(1)
        name = re.search(rb'\bname="([^"]*)"', attrs)
        rid = re.search(rb'\br:id="([^"]*)"|\bid="([^"]*)"', attrs)
        if not name or not rid:
            continue
        target = targets.get((rid.group(1) or rid.group(2)).decode(), "")
        target = target.lstrip("/")
        member = target if target.startswith("xl/") else f"xl/{target}"
        out[html_unescape(name.group(1).decode("utf-8"))] = member
    return out


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


# --------------------------------------------------------------------------- raw tables

def decode_text(data: bytes) -> str:
    """Decode a text file as French tools write it.

    UTF-16 when it starts with its byte-order mark, else UTF-8 (with or without BOM), else
    Windows-1252 (what Excel "CSV (séparateur : point-virgule)" writes), else Latin-1, which
    decodes any byte.  Used by every reader of the toolkit (answers, extracts, IMPACT files).
    See :func:`decode_lines` for a file whose lines do not share one encoding.
    """
    return decode_lines(data)[0]


def decode_lines(data: bytes) -> tuple[str, list[int]]:
    """Decode a text file, checking the encoding line by line.

    Returns
    -------
    (text, lines)
        ``lines`` lists the (1-based) physical lines of a UTF-8 file that are not UTF-8 and were
        decoded as Windows-1252 instead (a line pasted from another source): the caller warns
        about them, naming the row.  Empty when the whole file has one encoding.

    Notes
    -----
    A file is UTF-8 when it decodes as UTF-8; else, when at least one of its lines holds a
    non-ASCII UTF-8 sequence, it is a UTF-8 file with foreign lines, each of which is decoded
    as Windows-1252 (never replaced by « � »); else it is Windows-1252 as a whole (Latin-1 for
    the five bytes Windows-1252 leaves undefined).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.decode("utf-8", "ignore").isascii():  # no UTF-8 sequence anywhere: Windows-1252 as a whole
        return _single_byte(data), []
    parts, bad, pos, line_no = [], [], 0, 1
    while pos <= len(data):
        try:
            parts.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            start = pos + exc.start
            line_start = data.rfind(b"\n", 0, start) + 1
            line_end = data.find(b"\n", start)
            line_end = len(data) if line_end < 0 else line_end
            parts.append(data[pos:line_start].decode("utf-8"))
            line_no += data.count(b"\n", pos, line_start)
            parts.append(_single_byte(data[line_start:line_end]))
            bad.append(line_no)
            pos = line_end
            if len(bad) > 1000 and len(bad) > data.count(b"\n", 0, pos) // 2:
                # mostly Windows-1252 after all (one stray UTF-8-looking pair): one encoding
                return _single_byte(data), []
    return "".join(parts), bad


def _single_byte(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _sniff_separator(text: str) -> tuple[str | None, int, str]:
    """(separator, lines skipped by a ``sep=`` line, first line)."""
    first_line = text[:text.find("\n") if "\n" in text[:65536] else 65536].strip()
    m = re.fullmatch(r"sep=(.)", first_line)
    if m:
        return m.group(1), 1, first_line
    counts = {s: first_line.count(s) for s in (";", ",", "\t", "|")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        try:
            sep = csv.Sniffer().sniff(text[:4096], delimiters=";,\t|").delimiter
        except csv.Error:
            sep = ";"
    return sep, 0, first_line


def _ragged_records(text: str, sep: str, width: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Record numbers (header = 1) of every record, and the ragged ones ``(record, fields)``.

    Run only when pandas reported bad lines: the C ``csv`` module follows quotes, so record
    numbers are those a spreadsheet shows even when a quoted cell spans several lines.
    """
    bad = []
    n = 0
    for n, rec in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
        if n > 1 and len(rec) > width:
            bad.append((n, len(rec)))
    return n, bad


CHUNK_ROWS = 200_000


def _read_csv_chunks(buf: bytes, encoding: str, sep: str, skip: int = 0) -> pd.DataFrame:
    """Parse CSV text (pandas' C parser) by chunks, each column kept as a ``category``.

    Each chunk's columns are factorised (hash, no sort) and the chunks' categoricals united:
    memory stays at a few bytes a cell whatever the number of rows.  A file of one chunk (up to
    :data:`CHUNK_ROWS` rows, however wide) is kept as one block of object cells, each distinct
    value of a column stored once (a pointer a cell): a 10 000-column export is read in one pass,
    not one categorical per column.
    """
    from pandas.api.types import union_categoricals

    parts: dict[int, list] = {}
    columns = None
    reader = pd.read_csv(io.BytesIO(buf), encoding=encoding, sep=sep, dtype=object, keep_default_na=False,
                         na_values=[], skip_blank_lines=False, engine="c", on_bad_lines="warn", quotechar='"',
                         chunksize=CHUNK_ROWS, skiprows=skip)
    first = None
    for k, chunk in enumerate(reader):
        columns = list(chunk.columns)
        if k == 0:
            first = chunk
            continue
        if first is not None:
            _categorise(first, parts)
            first = None
        _categorise(chunk, parts)
    if first is not None:                                     # one chunk: one object block
        block = first.to_numpy(dtype=object)
        for j in range(block.shape[1]):
            codes, uniq = pd.factorize(block[:, j], use_na_sentinel=True)
            block[:, j] = np.where(codes < 0, None, np.asarray(uniq, dtype=object)[np.maximum(codes, 0)]
                                   if len(uniq) else None)
        return pd.DataFrame(block, columns=columns, dtype=object)
    if columns is None:
        return pd.read_csv(io.BytesIO(buf), encoding=encoding, sep=sep, dtype=object, keep_default_na=False,
                           na_values=[], skiprows=skip)
    data = {j: (union_categoricals(v) if len(v) > 1 else v[0]) for j, v in parts.items()}
    df = pd.DataFrame({j: pd.Series(c, copy=False) for j, c in data.items()})
    df.columns = columns
    return df


def _categorise(chunk: pd.DataFrame, parts: dict) -> None:
    for j, values in enumerate(chunk.to_numpy(dtype=object).T):   # one copy, not one per column
        codes, uniq = pd.factorize(values, use_na_sentinel=True)
        parts.setdefault(j, []).append(pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object),
                                                                 validate=False))


def _decodes(data: bytes, encoding: str, step: int = 1 << 24) -> bool:
    """True when ``data`` decodes in ``encoding`` (checked by slices: bounded memory)."""
    import codecs

    dec = codecs.getincrementaldecoder(encoding)()
    try:
        for k in range(0, len(data), step):
            dec.decode(data[k:k + step])
        dec.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _csv_source(data: bytes) -> tuple[bytes, str, list[int]]:
    """(bytes for the parser, their encoding, lines of a foreign encoding) of a CSV file.

    A file in one encoding is handed to the parser as it is (no decoded copy in memory); a
    UTF-8 file with foreign lines is decoded line by line (:func:`decode_lines`) and re-encoded.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-8", []
    if _decodes(data, "utf-8"):
        return data, "utf-8-sig", []
    text, foreign = decode_lines(data)
    if foreign:
        return text.encode("utf-8"), "utf-8", foreign
    del text
    return data, ("cp1252" if _decodes(data, "cp1252") else "latin-1"), []


#: Bytes that never occur in a text table (C0 controls but tab, line feed, carriage return).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _binary_offset(data: bytes, block: int = 4096, share: float = 0.01) -> int | None:
    """Offset of the first block of ``data`` that is binary, not text, or None.

    A block is binary when it holds a NUL byte or more than ``share`` of control bytes: a CSV
    with a binary tail or NUL bytes past its first 8 Ko (a copy interrupted, a disk error).  A
    few stray control characters in a text (a vertical tab pasted from a word processor) are
    text: the report shows them as « � ».
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        return nul
    for k in range(0, len(data), block):
        part = data[k:k + block]
        n_control = len(part) - len(part.translate(None, _CONTROL_BYTES))
        if n_control > share * max(len(part), 512):
            return k + re.search(b"[" + re.escape(_CONTROL_BYTES) + b"]", part).start()
    return None


def _header_width(buf: bytes, encoding: str, sep: str, offset: int) -> int:
    """Fields of the header record, read whole however long it is (a 10 000-column export)."""
    start = 0
    for _ in range(offset):                       # the « sep=; » line
        start = buf.find(b"\n", start) + 1
    end = buf.find(b"\n", start)
    while end >= 0 and buf[start:end].count(b'"') % 2:     # a quoted header spanning lines
        end = buf.find(b"\n", end + 1)
    line = buf[start:end if end >= 0 else len(buf)].decode(encoding, errors="replace").rstrip("\r")
    return len(next(csv.reader([line], delimiter=sep), []))


def _field_too_long(path: Path, where: str):
    """Python's ``csv`` stops at a field of more than ``csv.field_size_limit()`` characters
    (``_csv.Error``): a file of one endless line, or a quote never closed."""
    _fail(path, f"{where} contient un champ de plus de {fmt_number(csv.field_size_limit())} caractères (une ligne "
                "sans fin de ligne, ou un guillemet jamais refermé ?) : ce n'est pas un tableau de réponses ; "
                "ouvrez-le dans un tableur et enregistrez-le de nouveau en CSV")


def zipped_csv(path: Path, limits: "Limits") -> bytes:
    """The answers table of a zip of CSV files: ODK Central's ``.csv.zip`` holds the root table
    ``<formulaire>.csv``, one ``<formulaire>-<répétition>.csv`` per repeat group and the media;
    the root table is the CSV whose name starts every other CSV's name (or the only one).

    The member's declared size is checked against ``limits.max_bytes`` and its reading bounded
    by it (a zip bomb is refused, not decompressed).
    """
    with zipfile.ZipFile(path) as z:
        tables = [i for i in z.infolist() if i.filename.lower().endswith(".csv") and not i.is_dir()]
        stems = {i.filename: i.filename[:-4] for i in tables}
        roots = [i for i in tables if all(o is i or stems[o.filename].startswith(stems[i.filename] + "-")
                                          for o in tables)]
        if len(roots) != 1:
            _fail(path, "l'archive contient plusieurs tableaux CSV (" + ", ".join(sorted(stems)) + ") sans "
                        "tableau principal : extrayez celui des réponses et donnez-le seul")
        member = roots[0]
        if member.file_size > limits.max_bytes:
            _too_big(path, f"son tableau « {member.filename} » pèse {fmt_bytes(member.file_size)} décompressé", limits)
        with z.open(member) as fh:
            data = fh.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        _too_big(path, f"son tableau « {member.filename} » dépasse {fmt_bytes(limits.max_bytes)} décompressé", limits)
    return data


def _read_csv(path: Path, limits: "Limits", data: bytes | None = None
              ) -> tuple[pd.DataFrame, list[int], list[tuple], list[tuple]]:
    """Read a CSV: (table, row numbers, rejected rows, notes).

    Every column is read as text into a ``category`` (one copy of each distinct value: a
    million rows of codes take a few bytes a cell).  A record with more fields than the header
    (an unquoted ``;`` in a comment) is rejected with its row number, the others are read.
    ``data``: the CSV's bytes when they do not come from ``path`` itself (a zipped table).
    """
    if data is None:
        size = path.stat().st_size
        if size > limits.max_bytes:
            _too_big(path, f"il pèse {fmt_bytes(size)}", limits)
        data = path.read_bytes()
    binary = _binary_offset(data)
    if binary is not None:
        line = data.count(b"\n", 0, binary) + 1
        _fail(path, f"à partir de la ligne {fmt_number(line)} (octet n° {fmt_number(binary + 1)}), son contenu est binaire "
                    "(octets nuls ou de contrôle), pas du texte : le fichier est endommagé ou n'est pas un CSV ; "
                    "exportez-le de nouveau depuis son logiciel d'origine")
    buf, encoding, foreign = _csv_source(data)
    del data
    head = buf[:65536].decode(encoding, errors="replace")
    sep, offset, first_line = _sniff_separator(head)
    if offset:
        head = head.split("\n", 1)[1] if "\n" in head else ""
    if "\ufffd" in head[:4096] or not head.strip():
        _fail(path, "son contenu n'est pas du texte lisible")
    try:
        width = _header_width(buf, encoding, sep, offset)
    except csv.Error:
        _field_too_long(path, "sa première ligne (l'en-tête)")
    if width > limits.max_columns:
        _too_big(path, f"il a {fmt_number(width)} colonnes", limits)
    if width > limits.max_cells:
        _too_big(path, f"il a {fmt_number(width)} colonnes", limits)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = _read_csv_chunks(buf, encoding, sep, offset)
        except (pd.errors.ParserError, csv.Error, ValueError, UnicodeDecodeError):
            _fail(path, "ce n'est pas un CSV bien formé (un guillemet n'est pas refermé ?)")
    ragged = any("Skipping line" in str(w.message) or "expected" in str(w.message) for w in caught)
    rejected, notes = [], []
    if ragged:
        text = buf.decode(encoding)
        if offset:
            text = text.split("\n", 1)[1] if "\n" in text else ""
        try:
            _, bad = _ragged_records(text, sep, len(df.columns))
        except csv.Error:
            _field_too_long(path, "une de ses lignes")
        del text
        bad_set = {r for r, _ in bad}
        n_records = len(df) + len(bad)
        rows = [r + offset for r in range(2, n_records + 2) if r not in bad_set]
        for r, k in bad:
            rejected.append((r + offset, f"la ligne a {k} champs séparés par « {sep} » au lieu de "
                                         f"{len(df.columns)} (un « {sep} » non protégé par des guillemets "
                                         "dans une réponse ?)"))
    else:
        rows = list(range(2 + offset, len(df) + 2 + offset))
    for line in foreign:
        notes.append((line, None, "ligne non codée en UTF-8 comme le reste du fichier : lue comme du "
                                  "Windows-1252 (vérifiez ses accents)"))
    n_records = len(df) + len(rejected)
    if n_records > limits.max_rows:
        _too_big(path, f"il a {fmt_number(n_records)} lignes", limits)
    if n_records * width > limits.max_cells:   # the parse is bounded by max_bytes; what follows by this
        _too_big(path, f"il a {fmt_number(width)} colonnes sur {fmt_number(n_records)} lignes, soit "
                       f"{fmt_number(n_records * width)} cellules", limits)
    return df, rows, rejected, notes
