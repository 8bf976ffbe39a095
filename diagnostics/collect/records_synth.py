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
    ``code_commune``, ``code_departement``, ``code_region`` (strings, residence of the year),
    ``css`` (bool, Complémentaire santé solidaire), ``ame`` (bool, Aide médicale de l'État),
    ``medecin_traitant`` (bool, declared médecin traitant).
``soins``
    ``ben_id``, ``date_soins`` (date), ``prestation`` (string code: ``GEN`` general practitioner
    consultation, ``DEN`` dentist, ``URG`` emergency visit, ``MAM`` mammography, ``FCU``
    cervical smear, ``COL`` colorectal screening test, ``AUT`` any other act).
``ald``
    ``ben_id``, ``num_ald`` (int8, 1–32), ``annee_debut``, ``annee_fin`` (int16, null: ongoing).

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


@dataclass
class RecordPaths:
    """Where :func:`generate_records` wrote the three tables."""

    beneficiaires: Path
    soins: Path
    ald: Path
    n_beneficiaires: int
    n_soins: int
    n_ald: int


def national_territories(n_qpv: int = 1500, *, seed: int = 1) -> pd.DataFrame:
    """A synthetic France: 13 regions, 96 départements, ~35 000 communes, ``n_qpv`` QPV.

    Returns
    -------
    pandas.DataFrame
        One row per residence cell: ``code_qpv`` (None outside a QPV), ``code_commune``,
        ``code_departement``, ``code_region``, ``poids`` (share of the population, sums to 1).
    """
    rng = np.random.default_rng(seed)
    regions = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
    deps = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B"]
    dep_region = {d: regions[i % len(regions)] for i, d in enumerate(deps)}
    rows = []
    n_com = 360
    qpv_per_dep = np.full(len(deps), n_qpv // len(deps))
    qpv_per_dep[: n_qpv - qpv_per_dep.sum()] += 1
    for d, nq in zip(deps, qpv_per_dep):
        sizes = rng.pareto(1.2, n_com) + 1
        communes = [f"{d}{k:03d}" for k in range(1, n_com + 1)]
        for k, (c, s) in enumerate(zip(communes, sizes / sizes.sum())):
            rows.append((None, c, d, dep_region[d], s))
        big = np.argsort(-sizes)[: max(1, nq // 3)]
        for j in range(nq):
            c = communes[big[j % len(big)]]
            code = f"QN0{d}{j + 1:03d}" if d.isdigit() else f"QN{d}0{j + 1:03d}"
            rows.append((code, c, d, dep_region[d], 0.005))
    out = pd.DataFrame(rows, columns=["code_qpv", "code_commune", "code_departement", "code_region", "poids"])
    out["poids"] /= out["poids"].sum()
    return out


def example_territories() -> pd.DataFrame:
    """The example project's geography: its three QPV in Chambéry, the rest of Chambéry, of
    Savoie, of Auvergne-Rhône-Alpes and a few other départements standing for France.

    The population shares are synthetic (the QPV weigh 2 900, 4 700 and 1 400 residents against
    about 60 000 for Chambéry as a whole, as in ``data/exemple/extraits_synthetiques.csv``).
    """
    rows = [("QN073001", "73065", "73", "84", 2900), ("QN073002", "73065", "73", "84", 4700),
            ("QN073003", "73065", "73", "84", 1400), (None, "73065", "73", "84", 50000),
            (None, "73008", "73", "84", 40000), (None, "73011", "73", "84", 30000),
            (None, "38185", "38", "84", 60000), (None, "69123", "69", "84", 80000),
            (None, "75056", "75", "11", 90000), (None, "13055", "13", "93", 70000)]
    out = pd.DataFrame(rows, columns=["code_qpv", "code_commune", "code_departement", "code_region", "poids"])
    out["poids"] = out["poids"] / out["poids"].sum()
    return out


def _writer(path: Path, schema):
    import pyarrow.parquet as pq
    return pq.ParquetWriter(path, schema, compression="snappy")


def generate_records(out_dir, n_beneficiaries: int = 20_000, lines_per_beneficiary: float = 10.0, *,
                     year: int = 2021, seed: int = 2021, territories: pd.DataFrame | None = None,
                     chunk: int = _CHUNK) -> RecordPaths:
    """Write the three synthetic tables as Parquet files in ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Created if needed; receives ``beneficiaires.parquet``, ``soins.parquet``, ``ald.parquet``.
    n_beneficiaries : int, default 20 000
    lines_per_beneficiary : float, default 10
        Mean number of care lines per beneficiary over the three years ``year - 2`` … ``year``
        (10 M beneficiaries × 10 ≈ 100 M lines).
    year : int, default 2021
        Year of residence and of the indicators; care lines span the three years ending there
        (screening intervals of two or three years).
    seed : int, default 2021
        Same seed, same files (chunk size included).
    territories : DataFrame, optional
        Residence cells as returned by :func:`national_territories` (the default, with 1 500
        QPV) or :func:`example_territories`.

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
    cols = {c: pa.array([None if pd.isna(v) else str(v) for v in terr[c]], type=pa.string()) for c in
            ("code_qpv", "code_commune", "code_departement", "code_region")}
    codes = list(PRESTATIONS)
    probs = np.array(list(PRESTATIONS.values()))
    probs = probs / probs.sum()
    prest_dict = pa.array(codes, type=pa.string())
    start = np.datetime64(f"{year - 2}-01-01", "D")
    n_days = int((np.datetime64(f"{year + 1}-01-01", "D") - start).astype(int))
    paths = RecordPaths(out / "beneficiaires.parquet", out / "soins.parquet", out / "ald.parquet", 0, 0, 0)
    wb = ws = wa = None
    rng = np.random.default_rng(seed)
    try:
        for lo in range(0, n_beneficiaries, chunk):
            n = min(chunk, n_beneficiaries - lo)
            ids = np.arange(lo + 1, lo + n + 1, dtype=np.int64)
            sexe = rng.choice(np.array([1, 2], dtype=np.int8), n, p=[0.485, 0.515])
            age = np.minimum(rng.gamma(2.2, 19.0, n), 104).astype(np.int16)
            birth = (year - age).astype(np.int16)
            died = rng.random(n) < np.clip(0.0004 * np.exp(age / 11.0), 0, 0.4) * 0.05
            death_year = np.where(died, year - rng.integers(0, 3, n), 0).astype(np.int16)
            cell = rng.choice(len(p), n, p=p)
            poor = rng.random(n) < np.where(terr["code_qpv"].notna().to_numpy()[cell], 0.25, 0.08)
            css = poor & (rng.random(n) < 0.9)
            ame = (~css) & (rng.random(n) < np.where(poor, 0.04, 0.003))
            mt = rng.random(n) < np.where(age >= 17, np.where(poor, 0.82, 0.9), 0.7)
            take = pa.array(cell)
            ben = pa.table({
                "ben_id": ids, "sexe": sexe, "annee_naissance": birth,
                "annee_deces": pa.array(death_year, mask=~died),
                **{c: arr.take(take) for c, arr in cols.items()},
                "css": css, "ame": ame, "medecin_traitant": mt})
            # care lines: a Poisson count per beneficiary, more with age and for the poorest
            lam = lines_per_beneficiary * (0.55 + age / 60.0) * np.where(poor, 1.15, 1.0)
            lam *= lines_per_beneficiary / max(lam.mean(), 1e-9)
            k = rng.poisson(lam)
            m = int(k.sum())
            owner = np.repeat(np.arange(n), k)
            prest = rng.choice(len(codes), m, p=probs).astype(np.int8)
            # screening acts only in their target population (women 25–65 smear, 50–74 mammography)
            a_o, s_o = age[owner], sexe[owner]
            wrong = (((prest == codes.index("MAM")) & ((s_o != 2) | (a_o < 50) | (a_o > 74)))
                     | ((prest == codes.index("FCU")) & ((s_o != 2) | (a_o < 25) | (a_o > 65)))
                     | ((prest == codes.index("COL")) & ((a_o < 50) | (a_o > 74))))
            prest[wrong] = codes.index("AUT")
            days = rng.integers(0, n_days, m)
            soins = pa.table({
                "ben_id": ids[owner],
                "date_soins": pa.array(start + days.astype("timedelta64[D]"), type=pa.date32()),
                "prestation": pa.DictionaryArray.from_arrays(pa.array(prest), prest_dict)})
            # ALD: prevalence rising with age (synthetic)
            has = rng.random(n) < np.clip(0.02 + age / 250.0, 0, 0.5)
            na = int(has.sum())
            a_start = (year - rng.integers(0, 15, na)).astype(np.int16)
            ended = rng.random(na) < 0.1
            a_end = (a_start + rng.integers(0, 3, na)).astype(np.int16)
            ald = pa.table({"ben_id": ids[has], "num_ald": rng.integers(1, 33, na).astype(np.int8),
                            "annee_debut": a_start, "annee_fin": pa.array(a_end, mask=~ended)})
            if wb is None:
                wb, ws, wa = (_writer(paths.beneficiaires, ben.schema), _writer(paths.soins, soins.schema),
                              _writer(paths.ald, ald.schema))
            wb.write_table(ben)
            ws.write_table(soins)
            wa.write_table(ald)
            paths.n_beneficiaires += n
            paths.n_soins += m
            paths.n_ald += na
    finally:
        for w in (wb, ws, wa):
            if w is not None:
                w.close()
    return paths
