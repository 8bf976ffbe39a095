"""The same extract table from DuckDB, Spark local and a Spark standalone cluster (issues 21, 30),
read from a local path, a ``file://`` URI and a folder partitioned as Spark writes it.

A standalone master and one worker are started on 127.0.0.1 from the classes the pyspark
package ships (``spark-class org.apache.spark.deploy.master.Master``) and stopped at the end.
Skipped only when pyspark or a Java runtime is absent (run.sh installs both for CI)."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ibis")
pyspark = pytest.importorskip("pyspark", reason="pyspark absent : pip install 'dls-diagnostics[spark]'")
if shutil.which("java") is None:
    pytest.skip("Java absent : Spark a besoin d'un JRE (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from diagnostics.collect.records_synth import example_territories, generate_records
from diagnostics.errors import DLSError
from diagnostics.stats.records import connect, count_records, load_record_catalogue, records_extract
from diagnostics.stats.records.inputs import SPARK_DEFAULTS

pytestmark = pytest.mark.slow
CONF = {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Plain Parquet files, and the same with care lines partitioned by year (``annee=2021/…``)."""
    out = tmp_path_factory.mktemp("records_spark")
    plain = out / "plain"
    generate_records(plain, 12_000, 8.0, seed=11, territories=example_territories(), chunk=6_000)
    part = out / "part"
    part.mkdir()
    t = pq.read_table(plain / "soins.parquet")
    t = t.append_column("annee", pa.compute.year(t["date_soins"]))
    ds.write_dataset(t, part / "soins.parquet", format="parquet", partitioning=["annee"], partitioning_flavor="hive")
    for name in ("beneficiaires", "ald", "pharmacie"):
        shutil.copy(plain / f"{name}.parquet", part / f"{name}.parquet")
    return plain, part


@pytest.fixture(scope="module")
def reference(data):
    cat = load_record_catalogue()
    return cat, count_records(connect("duckdb"), data[0], cat)


def _same(counts, reference):
    cat, ref = reference
    pd.testing.assert_frame_equal(counts.table, ref.table, check_dtype=False)
    pd.testing.assert_frame_equal(counts.geography, ref.geography, check_dtype=False)
    ta, tb = records_extract(ref, cat), records_extract(counts, cat)
    for col in ("numerateur", "denominateur", "valeur", "ic_bas", "ic_haut"):
        x, y = ta[col].to_numpy(float), tb[col].to_numpy(float)
        assert (np.isnan(x) == np.isnan(y)).all(), col
        np.testing.assert_array_equal(x[~np.isnan(x)], y[~np.isnan(y)])
    assert (ta["masque"] == tb["masque"]).all()


@pytest.fixture(scope="module")
def local_session():
    con = connect("spark", master="local[2]", spark_conf=CONF)
    yield con
    con._session.stop()


def test_spark_local_path_uri_and_partitions(local_session, data, reference):
    plain, part = data
    for src in (plain, f"file://{plain}", f"file://{part}"):
        _same(count_records(local_session, src, reference[0]), reference)
    sess = local_session._session
    assert sess.conf.get("spark.driver.host") == "127.0.0.1"
    assert sess.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    with pytest.raises(DLSError, match="La table « beneficiaires » est introuvable"):
        count_records(local_session, f"file://{plain}/absent", reference[0])


def test_spark_tables_named_in_the_catalogue(local_session, data, reference, tmp_path):
    """« table: nom » reads a table or view Spark's catalogue knows (here temporary views)."""
    from diagnostics.stats.records.grammar import DEFAULT_RECORD_CATALOGUE
    sess = local_session._session
    for name in ("beneficiaires", "soins", "ald"):
        sess.read.parquet(f"file://{data[0]}/{name}.parquet").createOrReplaceTempView(f"vue_{name}")
    text = DEFAULT_RECORD_CATALOGUE.read_text(encoding="utf-8")
    preset = (Path(DEFAULT_RECORD_CATALOGUE).parent / "colonnes_individuelles" / "synthetique.yaml").read_text(
        encoding="utf-8")
    for name in ("beneficiaires", "soins", "ald"):
        preset = preset.replace(f"    source: {name}\n", f"    table: vue_{name}\n")
    (tmp_path / "cols.yaml").write_text(preset, encoding="utf-8")
    defs = tmp_path / "defs.yaml"
    defs.write_text(text.replace("colonnes: synthetique", "colonnes: cols.yaml"), encoding="utf-8")
    _same(count_records(local_session, "inutilise", load_record_catalogue(defs)), reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, proc, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process ended with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    raise TimeoutError(port)


@pytest.fixture(scope="module")
def cluster(local_session, tmp_path_factory):
    """A standalone master and one worker (1 core, 1 GB) bound to 127.0.0.1."""
    local_session._session.stop()                          # one driver at a time on 2 cores
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = tmp_path_factory.mktemp("spark_logs")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs),
           "PYSPARK_PYTHON": sys.executable, "SPARK_HOME": str(spark_class.parents[1])}
    port, ui, wui = _free_port(), _free_port(), _free_port()
    procs = []
    try:
        master = subprocess.Popen([str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(ui)], env=env,
                                  stdout=open(logs / "master.log", "w"), stderr=subprocess.STDOUT)
        procs.append(master)
        _wait_port(port, master)
        worker = subprocess.Popen([str(spark_class), "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                                   "--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(wui),
                                   "--work-dir", str(logs / "work")], env=env,
                                  stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT)
        procs.append(worker)
        time.sleep(5)
        con = connect("spark", master=f"spark://127.0.0.1:{port}",
                      spark_conf={**CONF, "spark.executor.memory": "512m", "spark.cores.max": "1"})
        yield con
        con._session.stop()
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_standalone_cluster_gives_the_same_table(cluster, data, reference):
    _same(count_records(cluster, f"file://{data[1]}", reference[0]), reference)
    assert cluster._session.sparkContext.master.startswith("spark://127.0.0.1:")
    assert SPARK_DEFAULTS["spark.driver.bindAddress"] == "127.0.0.1"
