"""Seeded synthetic individual records (beneficiaries, care lines, ALD), written as Parquet.

The three tables imitate the *shape* of what the producers of health-insurance indicators
receive (one row per beneficiary, one row per reimbursed act, one row per long-term condition),
with short explicit column names; every value is drawn at random from a seed.  Nothing here is
real: territory codes are invented (« QN » + département + number for the QPV, département +
3 digits for the communes) except for the example project, whose three quartiers keep the
illustrative codes of ``data/exemple/projet.yaml``.

Tables (one Parquet file, or one directory of Parquet parts, each):

``beneficiaires``
    ``ben_id`` (int64, pseudonymous key), ``sexe`` (int8: 1 homme, 2 femme), ``annee_naissance``
    (int16), ``annee_deces`` (int16, null when alive), ``code_qpv`` (string, null outside a QPV),
    ``code_commune``, ``code_epci``, ``code_departement``, ``code_region`` (strings, residence of
    the year), ``css`` (bool, Complémentaire santé solidaire), ``ame`` (bool, Aide médicale de
    l'État), ``medecin_traitant`` (bool, declared médecin traitant), ``invalidite`` (bool,
    invalidity pension).
``soins``
    ``ben_id``, ``date_soins`` (date), ``prestation`` (string code: ``GEN`` general practitioner
    consultation, ``DEN`` dentist, ``URG`` emergency visit, ``MAM`` mammography, ``FCU``
    cervical smear, ``COL`` colorectal screening test, ``AUT`` any other act), ``specialite``
    (int16, the practitioner's specialty, synthetic codes :data:`SPECIALTIES`), ``code_acte``
    (CCAM-like act code of the mammographies, else null), ``code_bio`` (NABM-like biology code of
    the HbA1c tests of the treated diabetics, else null).
``pharmacie``
    ``ben_id``, ``date_delivrance`` (date), ``code_atc`` (string, ATC class of the drug
    delivered: ``A10BA02`` metformin for the treated diabetics, a few others for anyone).
``ald``
    ``ben_id``, ``num_ald`` (int8, 1–32; 8 for part of the diabetics), ``annee_debut``,
    ``annee_fin`` (int16, null: ongoing).

The codes are chosen to look like the real nomenclatures so that the definitions of
``indicateurs_cartographie.yaml`` run on them; their frequencies are invented.

Generation is chunked (numpy draws per chunk of beneficiaries, pyarrow writers), so 10 million
beneficiaries and 100 million care lines fit in a few hundred MB of memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "PRESTATIONS",
    "RecordPaths",
    "example_territories",
    "generate_records",
    "national_territories",
]

#: Care-line codes and their share of the lines drawn (synthetic).
PRESTATIONS = {"GEN": 0.42, "DEN": 0.08, "URG": 0.04, "MAM": 0.02, "FCU": 0.02, "COL": 0.01, "AUT": 0.41}
_CHUNK = 1_000_000
#: Specialty of the lines of each care code (synthetic, after the SNDS PSE_SPE_COD field:
#: 1 general practice, 19 dentistry, 6 radiology, 7 gynaecology, 0 none or institution).
SPECIALTIES = {"GEN": 1, "DEN": 19, "URG": 0, "MAM": 6, "FCU": 7, "COL": 0, "AUT": 0}
_MAMMO_ACTS = ("QEQK004", "QEQK001")
_HBA1C = "1577"
_OTHER_ATC = ("C09AA05", "C10AA05", "N02BE01", "J01CA04", "R03AC02")


@dataclass
class RecordPaths:
    """Where :func:`generate_records` wrote the three tables."""

    beneficiaires: Path
    soins: Path
    ald: Path
    n_beneficiaires: int
    n_soins: int
    n_ald: int
    pharmacie: Path | None = None


def national_territories(n_qpv: int = 1500, *, seed: int = 1, communes_per_departement: int = 360) -> pd.DataFrame:
    """A synthetic France: 13 regions, 96 départements, ~35 000 communes, ``n_qpv`` QPV.

    Parameters
    ----------
    n_qpv : int, default 1 500
    seed : int, default 1
    communes_per_departement : int, default 360
        3 600 for the « ten times more communes » geography of the benchmark.

    Returns
    -------
    pandas.DataFrame
        One row per residence cell: ``code_qpv`` (None outside a QPV), ``code_commune``,
        ``code_epci`` (synthetic groups of 20 communes of one département), ``code_departement``,
        ``code_region``, ``poids`` (share of the population, sums to 1).
    """
    rng = np.random.default_rng(seed)
    regions = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
    deps = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B"]
    dep_region = {d: regions[i % len(regions)] for i, d in enumerate(deps)}
    rows = []
    n_com = communes_per_departement
    qpv_per_dep = np.full(len(deps), n_qpv // len(deps))
    qpv_per_dep[: n_qpv - qpv_per_dep.sum()] += 1
    for d, nq in zip(deps, qpv_per_dep):
        sizes = rng.pareto(1.2, n_com) + 1
        width = max(3, len(str(n_com)))
        communes = [f"{d}{k:0{width}d}" for k in range(1, n_com + 1)]
        epci = [f"E{d}{k // 20:03d}" for k in range(n_com)]
        for k, (c, s) in enumerate(zip(communes, sizes / sizes.sum())):
            rows.append((None, c, epci[k], d, dep_region[d], s))
        big = np.argsort(-sizes)[: max(1, nq // 3)]
        for j in range(nq):
            c = communes[big[j % len(big)]]
            code = f"QN0{d}{j + 1:03d}" if d.isdigit() else f"QN{d}0{j + 1:03d}"
            rows.append((code, c, epci[big[j % len(big)]], d, dep_region[d], 0.005))
    out = pd.DataFrame(rows, columns=["code_qpv", "code_commune", "code_epci", "code_departement", "code_region",
                                      "poids"])
    out["poids"] /= out["poids"].sum()
    return out


#: Labels of the example's synthetic QPV codes, as the example's ORS extract writes them: the example
#: project declares no QPV code (its real codes are unconfirmed), so its quartiers are found by name.
EXAMPLE_QPV_NAMES = {"QN073001": "Biollay (QPV, code illustratif)",
                     "QN073002": "Hauts-de-Chambéry (QPV, code illustratif)",
                     "QN073003": "Bellevue (QPV, code illustratif)"}


def example_territories() -> pd.DataFrame:
    """The example project's geography: its three QPV in Chambéry, the rest of Chambéry, of
    Savoie, of Auvergne-Rhône-Alpes and a few other départements standing for France.

    The population shares are synthetic (the QPV weigh 2 900, 4 700 and 1 400 residents against
    about 60 000 for Chambéry as a whole, as in ``data/exemple/extraits_synthetiques.csv``).
    """
    rows = [("QN073001", "73065", "E73001", "73", "84", 2900), ("QN073002", "73065", "E73001", "73", "84", 4700),
            ("QN073003", "73065", "E73001", "73", "84", 1400), (None, "73065", "E73001", "73", "84", 50000),
            (None, "73008", "E73001", "73", "84", 40000), (None, "73011", "E73002", "73", "84", 30000),
            (None, "38185", "E38001", "38", "84", 60000), (None, "69123", "E69001", "69", "84", 80000),
            (None, "75056", "E75001", "75", "11", 90000), (None, "13055", "E13001", "13", "93", 70000)]
    out = pd.DataFrame(rows, columns=["code_qpv", "code_commune", "code_epci", "code_departement", "code_region",
                                      "poids"])
    out["poids"] = out["poids"] / out["poids"].sum()
    return out


def _writer(path: Path, schema):
    import pyarrow.parquet as pq
    return pq.ParquetWriter(path, schema, compression="snappy")


def _dates(rng, start, n_days, m):
    import pyarrow as pa
    return pa.array(start + rng.integers(0, n_days, m).astype("timedelta64[D]"), type=pa.date32())


def _people(rng, ids, year, cells, terr_cols, in_qpv):
    """The beneficiaries of one chunk, and their age and poverty for the other tables."""
    import pyarrow as pa
    n = len(ids)
    sexe = rng.choice(np.array([1, 2], dtype=np.int8), n, p=[0.485, 0.515])
    age = np.minimum(rng.gamma(2.2, 19.0, n), 104).astype(np.int16)
    died = rng.random(n) < np.clip(0.0004 * np.exp(age / 11.0), 0, 0.4) * 0.05
    death_year = np.where(died, year - rng.integers(0, 3, n), 0).astype(np.int16)
    poor = rng.random(n) < np.where(in_qpv[cells], 0.25, 0.08)
    css = poor & (rng.random(n) < 0.9)
    ame = (~css) & (rng.random(n) < np.where(poor, 0.04, 0.003))
    mt = rng.random(n) < np.where(age >= 17, np.where(poor, 0.82, 0.9), 0.7)
    inval = (age >= 20) & (age < 62) & (rng.random(n) < np.where(poor, 0.05, 0.02))
    take = pa.array(cells)
    ben = pa.table({"ben_id": ids, "sexe": sexe, "annee_naissance": (year - age).astype(np.int16),
                    "annee_deces": pa.array(death_year, mask=~died), **{c: a.take(take) for c, a in terr_cols.items()},
                    "css": css, "ame": ame, "medecin_traitant": mt, "invalidite": inval})
    diabetic = rng.random(n) < np.clip(0.002 + (age / 100.0) ** 2 * 0.2, 0, 0.3) * np.where(poor, 1.5, 1.0)
    return ben, age, sexe, poor, diabetic


def _care(rng, ids, age, sexe, poor, diabetic, lines, dates):
    """Care lines: a Poisson count per beneficiary, more with age and for the poorest; the
    screening acts only in their target population; HbA1c tests for the treated diabetics."""
    import pyarrow as pa
    codes = list(PRESTATIONS)
    probs = np.array(list(PRESTATIONS.values()))
    lam = lines * (0.55 + age / 60.0) * np.where(poor, 1.15, 1.0)
    lam *= lines / max(lam.mean(), 1e-9)
    k = rng.poisson(lam)
    owner = np.repeat(np.arange(len(ids)), k)
    prest = rng.choice(len(codes), len(owner), p=probs / probs.sum()).astype(np.int8)
    a_o, s_o = age[owner], sexe[owner]
    wrong = (((prest == codes.index("MAM")) & ((s_o != 2) | (a_o < 50) | (a_o > 74)))
             | ((prest == codes.index("FCU")) & ((s_o != 2) | (a_o < 25) | (a_o > 65)))
             | ((prest == codes.index("COL")) & ((a_o < 50) | (a_o > 74))))
    prest[wrong] = codes.index("AUT")
    mam = prest == codes.index("MAM")
    act = (rng.random(len(owner)) >= 0.8).astype(np.int8)            # index in _MAMMO_ACTS
    n_bio = np.where(diabetic, rng.poisson(7.0, len(ids)), 0)         # over the three years
    bio_owner = np.repeat(np.arange(len(ids)), n_bio)
    spec = np.array([SPECIALTIES[c] for c in codes], dtype=np.int16)
    return pa.table({
        "ben_id": np.concatenate([ids[owner], ids[bio_owner]]),
        "date_soins": pa.concat_arrays([dates(len(owner)), dates(len(bio_owner))]),
        "prestation": pa.DictionaryArray.from_arrays(
            pa.array(np.concatenate([prest, np.full(len(bio_owner), codes.index("AUT"), np.int8)])),
            pa.array(codes, type=pa.string())),
        "specialite": np.concatenate([spec[prest], np.zeros(len(bio_owner), np.int16)]),
        "code_acte": _coded(np.concatenate([act, np.zeros(len(bio_owner), np.int8)]),
                            np.concatenate([mam, np.zeros(len(bio_owner), bool)]), _MAMMO_ACTS),
        "code_bio": _coded(np.zeros(len(owner) + len(bio_owner), np.int8),
                           np.arange(len(owner) + len(bio_owner)) >= len(owner), (_HBA1C,))})


def _coded(index, present, labels):
    """A dictionary-encoded string column, null where ``present`` is false (no Python objects)."""
    import pyarrow as pa
    return pa.DictionaryArray.from_arrays(pa.array(index, mask=~present), pa.array(labels, type=pa.string()))


def _drugs_and_ald(rng, ids, age, diabetic, year, dates):
    """Deliveries (metformin for the diabetics, other classes for anyone) and ALD (8 for part of
    the diabetics, other numbers rising with age)."""
    import pyarrow as pa
    n_dia = np.where(diabetic, rng.poisson(24.0, len(ids)), 0)        # about 8 a year
    n_other = rng.poisson(np.clip(age / 40.0, 0.05, 3.0))
    owner = np.concatenate([np.repeat(np.arange(len(ids)), n_dia), np.repeat(np.arange(len(ids)), n_other)])
    atc = np.concatenate([np.full(int(n_dia.sum()), "A10BA02"),
                          np.array(_OTHER_ATC)[rng.integers(0, len(_OTHER_ATC), int(n_other.sum()))]])
    drugs = pa.table({"ben_id": ids[owner], "date_delivrance": dates(len(owner)), "code_atc": pa.array(atc, pa.string())})
    has = rng.random(len(ids)) < np.clip(0.02 + age / 250.0, 0, 0.5)
    na = int(has.sum())
    num = rng.integers(1, 33, na).astype(np.int8)
    num[diabetic[has] & (rng.random(na) < 0.8)] = 8
    a_start = (year - rng.integers(0, 15, na)).astype(np.int16)
    ended = rng.random(na) < 0.1
    a_end = (a_start + rng.integers(0, 3, na)).astype(np.int16)
    ald = pa.table({"ben_id": ids[has], "num_ald": num, "annee_debut": a_start,
                    "annee_fin": pa.array(a_end, mask=~ended)})
    return drugs, ald


def generate_records(out_dir, n_beneficiaries: int = 20_000, lines_per_beneficiary: float = 10.0, *,
                     year: int = 2021, seed: int = 2021, territories: pd.DataFrame | None = None,
                     chunk: int = _CHUNK) -> RecordPaths:
    """Write the four synthetic tables as Parquet files in ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Created if needed; receives ``beneficiaires.parquet``, ``soins.parquet``,
        ``pharmacie.parquet``, ``ald.parquet``.
    n_beneficiaries : int, default 20 000
    lines_per_beneficiary : float, default 10
        Mean number of care lines per beneficiary over the three years ``year - 2`` … ``year``
        (10 M beneficiaries × 10 ≈ 100 M lines), besides the HbA1c tests of the diabetics.
    year : int, default 2021
        Year of residence and of the indicators; care lines span the three years ending there
        (screening intervals of two or three years).
    seed : int, default 2021
        Same seed, same files (chunk size included).
    territories : DataFrame, optional
        Residence cells as returned by :func:`national_territories` (the default, with 1 500
        QPV) or :func:`example_territories`.
    chunk : int
        Beneficiaries drawn and written at a time.

    Returns
    -------
    RecordPaths
    """
    import pyarrow as pa

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    terr = national_territories() if territories is None else territories.reset_index(drop=True)
    p = terr["poids"].to_numpy(float)
    p = p / p.sum()
    terr_cols = {c: pa.array([None if pd.isna(v) else str(v) for v in terr[c]], type=pa.string())
                 for c in ("code_qpv", "code_commune", "code_epci", "code_departement", "code_region")}
    in_qpv = terr["code_qpv"].notna().to_numpy()
    start = np.datetime64(f"{year - 2}-01-01", "D")
    n_days = int((np.datetime64(f"{year + 1}-01-01", "D") - start).astype(int))
    paths = RecordPaths(out / "beneficiaires.parquet", out / "soins.parquet", out / "ald.parquet", 0, 0, 0,
                        out / "pharmacie.parquet")
    writers = {}
    rng = np.random.default_rng(seed)

    def dates(m):
        return _dates(rng, start, n_days, m)
    try:
        for lo in range(0, n_beneficiaries, chunk):
            ids = np.arange(lo + 1, lo + min(chunk, n_beneficiaries - lo) + 1, dtype=np.int64)
            ben, age, sexe, poor, diabetic = _people(rng, ids, year, rng.choice(len(p), len(ids), p=p), terr_cols, in_qpv)
            soins = _care(rng, ids, age, sexe, poor, diabetic, lines_per_beneficiary, dates)
            drugs, ald = _drugs_and_ald(rng, ids, age, diabetic, year, dates)
            for name, tab in (("beneficiaires", ben), ("soins", soins), ("pharmacie", drugs), ("ald", ald)):
                if name not in writers:
                    writers[name] = _writer(getattr(paths, name), tab.schema)
                writers[name].write_table(tab)
            paths.n_beneficiaires += len(ids)
            paths.n_soins += soins.num_rows
            paths.n_ald += ald.num_rows
    finally:
        for w in writers.values():
            w.close()
    return paths
