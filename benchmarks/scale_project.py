"""Make an N-quartier project by files only, from the embedded example (issue 31).

Usage::

    .venv/bin/python benchmarks/scale_project.py 30 /tmp/projet30

Quartier ``k`` (0-based) is a clone of the example's quartier ``k % 3`` (Biollay,
Hauts-de-Chambéry, Bellevue): its answers (about 134 per quartier), its population margins, its
rows of the extracts, its answers and margins of the previous diagnostic, its actors, its QPV
contour (moved south by its rank) and the interviews that name it are copied under a new name (« Biollay 2 », « Bellevue 5 »…), a new id,
a new illustrative QPV code and a new code in the questionnaire's ``quartier`` list (code 4,
« Autre quartier », is kept).  Nothing is computed: the files are rewritten as a user would edit
them, so the build reads them through its ordinary readers.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "exemple"
QUESTIONNAIRE = ROOT / "questionnaires" / "dls_habitants.yaml"
BASES = (("biollay", "Biollay", "QN073001"), ("hauts_de_chambery", "Hauts-de-Chambéry", "QN073002"),
         ("bellevue", "Bellevue", "QN073003"))
OTHER = 4   # « Autre quartier » in the questionnaire's list


@dataclass(frozen=True)
class Clone:
    """One quartier of the made project and the example quartier it copies."""

    id: str
    label: str
    code: int
    qpv: str
    base: str   # label of the example quartier

    def locatif(self) -> str:
        return f"dans le quartier {self.label}"


def clones(n: int) -> list[Clone]:
    """The ``n`` quartiers: the three of the example, then numbered copies of them."""
    out = []
    for k in range(n):
        bid, blabel, bqpv = BASES[k % 3]
        rank = k // 3 + 1
        if rank == 1:
            out.append(Clone(bid, blabel, k + 1, bqpv, blabel))
        else:
            code = k + 1 if k + 1 < OTHER else k + 2
            out.append(Clone(f"{bid}_{rank}", f"{blabel} {rank}", code, f"QN0739{k:02d}", blabel))
    return out


def _read(path: Path, encoding: str) -> list[str]:
    return path.read_text(encoding=encoding).splitlines(keepends=True)


def _clone_rows(path: Path, dest: Path, encoding: str, column: str, qs: list[Clone], *,
                id_column: str | None = None, keep_comments: bool = True) -> None:
    """Copy a ``;`` CSV, one copy of a base quartier's rows per clone (column ``column`` renamed)."""
    lines = _read(path, encoding)
    head = [ln for ln in lines if ln.startswith(("#", "\ufeff#"))] if keep_comments else []
    body = [ln for ln in lines if not ln.startswith(("#", "\ufeff#"))]
    rows = list(csv.reader(body, delimiter=";"))
    header, data = rows[0], rows[1:]
    col = header.index(column)
    idc = header.index(id_column) if id_column else None
    out = [header]
    for q in qs:
        for r in data:
            if r[col] == q.base:
                r2 = list(r)
                r2[col] = q.label
                if idc is not None and q.label != q.base:
                    r2[idc] = f"{q.id}-{r2[idc]}"
                out.append(r2)
    others = [r for r in data if r[col] not in {b[1] for b in BASES}]
    out += others
    with open(dest, "w", encoding=encoding, newline="") as fh:
        fh.writelines(head)
        csv.writer(fh, delimiter=";", lineterminator="\r\n" if "\r\n" in body[0] else "\n").writerows(out)


def _questionnaire(src: Path, dest: Path, qs: list[Clone]) -> None:
    text = src.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    lst = data["choice_lists"]["quartier"]
    other = [c for c in lst if c["code"] == OTHER]
    data["choice_lists"]["quartier"] = [{"code": q.code, "label": q.label} for q in qs] + other
    dest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _extracts(src: Path, dest: Path, qs: list[Clone]) -> None:
    lines = _read(src, "utf-8-sig")
    out = []
    for ln in lines:
        cells = ln.split(";")
        if len(cells) > 2 and cells[0] == "QPV":
            for q in qs:
                base_qpv = next(b[2] for b in BASES if b[1] == q.base)
                if cells[1] == base_qpv:
                    c2 = list(cells)
                    c2[1] = q.qpv
                    c2[2] = c2[2].replace(q.base, q.label, 1)
                    out.append(";".join(c2))
        else:
            out.append(ln)
    dest.write_text("\ufeff" + "".join(out), encoding="utf-8")


def _names(field: str, qs: list[Clone], sep: str) -> str:
    named = [s.strip() for s in field.split(sep)]
    mapped = [q.label for q in qs if q.base in named]
    return sep.join(mapped) if mapped else field   # « tous » is kept


def _interviews(src: Path, dest: Path, qs: list[Clone]) -> None:
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"^(Quartiers : )(.*)$", lambda m: m.group(1) + _names(m.group(2), qs, ", "),
                  text, flags=re.M)
    dest.write_text(text, encoding="utf-8")


def _actors(src: Path, dest: Path, qs: list[Clone]) -> None:
    lines = _read(src, "utf-8")
    rows = list(csv.reader([ln for ln in lines if not ln.startswith("#")], delimiter=";"))
    col = rows[0].index("quartiers")
    for r in rows[1:]:
        if r[col]:
            r[col] = _names(r[col], qs, "|")
    with open(dest, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(ln for ln in lines if ln.startswith("#"))
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(rows)


def _contours(src: Path, dest: Path, qs: list[Clone]) -> None:
    """Copy the QPV contours, one feature per clone: its base's shape moved south by its rank (so
    that the synthesis map shows three columns of distinct quartiers), its QPV code and its name."""
    data = json.loads(src.read_text(encoding="utf-8"))
    by_name = {f["properties"]["lib_qp"]: f for f in data["features"]}
    features = []
    for q in qs:
        rank = int(q.id.rsplit("_", 1)[1]) if q.label != q.base else 1
        shift = -0.0095 * (rank - 1)   # ° of latitude, more than the tallest example contour
        geometry = json.loads(json.dumps(by_name[q.base]["geometry"]))
        geometry["coordinates"] = [[[lon, lat + shift] for lon, lat in ring] for ring in geometry["coordinates"]]
        props = dict(by_name[q.base]["properties"], lib_qp=q.label)
        props["code_qp"] = q.qpv
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    dest.write_text(json.dumps(dict(data, features=features), ensure_ascii=False), encoding="utf-8")


def make_project(dest: str | Path, n: int) -> Path:
    """Write an ``n``-quartier project into ``dest``; return the path of its ``projet.yaml``."""
    dest = Path(dest)
    (dest / "precedent").mkdir(parents=True, exist_ok=True)
    qs = clones(n)
    for name in ("references.yaml", "logo_dls_exemple.svg", "citations_relues.csv",
                 "contour_commune_synthetique.geojson"):
        shutil.copy(EXAMPLE / name, dest / name)
    _questionnaire(QUESTIONNAIRE, dest / "questionnaire.yaml", qs)
    _questionnaire(EXAMPLE / "precedent" / "questionnaire_2017.yaml", dest / "precedent" / "questionnaire_2017.yaml",
                   qs)
    _clone_rows(EXAMPLE / "reponses_synthetiques.csv", dest / "reponses.csv", "cp1252", "quartier", qs,
                id_column="id_questionnaire")
    _clone_rows(EXAMPLE / "marges_population_synthetiques.csv", dest / "marges.csv", "utf-8", "quartier", qs)
    _clone_rows(EXAMPLE / "precedent" / "reponses_2017.csv", dest / "precedent" / "reponses_2017.csv", "cp1252",
                "quartier", qs, id_column="id_questionnaire")
    _clone_rows(EXAMPLE / "precedent" / "marges_2017.csv", dest / "precedent" / "marges_2017.csv", "utf-8",
                "quartier", qs)
    _extracts(EXAMPLE / "extraits_synthetiques.csv", dest / "extraits.csv", qs)
    _interviews(EXAMPLE / "entretiens_synthetiques.md", dest / "entretiens.md", qs)
    _actors(EXAMPLE / "annuaire_acteurs_synthetique.csv", dest / "annuaire.csv", qs)
    _contours(EXAMPLE / "contours_qpv_synthetiques.geojson", dest / "contours_qpv.geojson", qs)
    config = yaml.safe_load((EXAMPLE / "projet.yaml").read_text(encoding="utf-8"))
    config["projet"]["sous_titre"] = f"Projet de {n} quartiers fabriqué à partir de l'exemple (données synthétiques)"
    config["quartiers"] = [{"id": q.id, "libelle": q.label, "code": q.code, "qpv": q.qpv, "locatif": q.locatif()}
                           if q.label != q.base else
                           next(x for x in yaml.safe_load((EXAMPLE / "projet.yaml").read_text(encoding="utf-8"))
                                ["quartiers"] if x["libelle"] == q.label) for q in qs]
    config["donnees"].update({"questionnaire": "questionnaire.yaml", "reponses": "reponses.csv",
                              "marges": "marges.csv", "extraits": "extraits.csv", "annuaire": "annuaire.csv",
                              "entretiens": "entretiens.md", "contours_qpv": "contours_qpv.geojson"})
    config["precedent"]["questionnaire"] = "precedent/questionnaire_2017.yaml"
    path = dest / "projet.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(make_project(sys.argv[2], int(sys.argv[1])))
