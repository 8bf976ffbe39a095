"""The same extract table from Spark (local mode) as from DuckDB, to 1e-12 (issue 21).

One Spark session for the module.  Skipped only when pyspark or a Java runtime is absent
(run.sh installs both for CI)."""
import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ibis")
pytest.importorskip("pyspark", reason="pyspark absent : pip install 'dls-diagnostics[spark]'")
if shutil.which("java") is None:
    pytest.skip("Java absent : Spark a besoin d'un JRE (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from diagnostics.collect.records_synth import example_territories, generate_records
from diagnostics.stats.records import (
    connect,
    count_records,
    load_record_catalogue,
    records_extract,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    s = (SparkSession.builder.master("local[2]").appName("dls-test")
         .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    yield s
    s.stop()


def test_spark_and_duckdb_give_the_same_table(spark, tmp_path_factory):
    out = tmp_path_factory.mktemp("records")
    generate_records(out, 20_000, 8.0, seed=11, territories=example_territories())
    cat = load_record_catalogue()
    a = count_records(connect("duckdb"), out, cat)
    b = count_records(connect("spark", session=spark), out, cat)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    ta, tb = records_extract(a, cat), records_extract(b, cat)
    assert ta.shape == tb.shape and len(ta) > 100
    for col in ("numerateur", "denominateur", "valeur", "ic_bas", "ic_haut"):
        x, y = ta[col].to_numpy(float), tb[col].to_numpy(float)
        assert (np.isnan(x) == np.isnan(y)).all(), col
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=1e-12, atol=0)
    for col in ("niveau", "code_territoire", "indicateur", "classe_age", "masque"):
        assert (ta[col] == tb[col]).all(), col
