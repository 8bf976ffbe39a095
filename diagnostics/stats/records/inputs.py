"""Where the individual records are read: the engine (DuckDB or Spark) and each table's source.

A table is read through the engine's own reader, so that what the engine can read the command
can read: a local Parquet file or folder, a folder written with ``partitionBy``
(``soins.parquet/annee=2021/…``, the partition columns kept), a ``file://``, ``hdfs://``,
``s3://`` or ``abfs://`` URI, or (Spark) a table of the metastore.  Nothing is checked on the
driver's disk: a missing input is the engine's error, turned into the same French sentence on
every engine (« La table « soins » est introuvable : … »).
"""
from __future__ import annotations

import os
from pathlib import Path

from ...errors import DLSError

__all__ = ["ENGINES", "SPARK_DEFAULTS", "connect", "read_table", "source_uri"]

ENGINES = ("duckdb", "spark")
#: Spark settings applied unless the caller gives others: bound to the loopback address, Arrow
#: transfer to the driver, UTC dates.
SPARK_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
}


def connect(engine: str = "duckdb", *, master: str | None = None, spark_conf: dict | None = None,
            session=None, threads: int | None = None, memory: str | None = None):
    """An Ibis backend: DuckDB in process, or Spark (an existing ``session`` or a new one).

    Parameters
    ----------
    engine : {"duckdb", "spark"}
    master : str, optional
        Spark master URL (``local[*]`` by default, ``spark://hôte:7077``, ``yarn``, ``k8s://…``).
    spark_conf : dict, optional
        Spark settings over :data:`SPARK_DEFAULTS` (``spark.driver.host`` to bind elsewhere than
        127.0.0.1; ``SPARK_LOCAL_IP`` follows it).
    session : pyspark.sql.SparkSession, optional
        Reuse this session (its settings are left as they are).
    threads : int, optional
        DuckDB threads.
    memory : str, optional
        DuckDB's memory limit (« 2GB »): beyond it DuckDB spills to disk; the whole command then
        stays near it (DuckDB runs inside this process).
    """
    try:
        import ibis
    except ImportError:
        raise DLSError("Le calcul sur données individuelles demande Ibis : installez "
                       "« pip install 'dls-diagnostics[national]' ».") from None
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        if threads:
            con.raw_sql(f"SET threads = {int(threads)}")
        if memory:
            try:
                con.raw_sql(f"SET memory_limit = '{memory}'")
            except Exception as exc:
                raise DLSError(f"Limite de mémoire « {memory} » incomprise : une taille comme « 2GB » est attendue.",
                               value=memory, expected="2GB") from exc
            con.raw_sql("SET preserve_insertion_order = false")
        return con
    if engine != "spark":
        raise DLSError(f"Moteur « {engine} » inconnu ; « duckdb » ou « spark » est attendu.", value=engine)
    if session is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise DLSError("Le moteur Spark demande pyspark : installez « pip install 'dls-diagnostics[spark]' » "
                           "et Java 17.") from None
        conf = {**SPARK_DEFAULTS, **(spark_conf or {})}
        os.environ.setdefault("SPARK_LOCAL_IP", conf["spark.driver.host"])
        builder = SparkSession.builder.master(master or "local[*]").appName("dls-extraits-individuels")
        for k, v in conf.items():
            builder = builder.config(k, v)
        session = builder.getOrCreate()
    return ibis.pyspark.connect(session)


def _is_spark(con) -> bool:
    return con.name == "pyspark"


def source_uri(data, source: str) -> str:
    """The URI or path of a table: ``source`` itself when it is an absolute URI or path, else
    ``<data>/<source>.parquet`` (``data`` a folder or a URI)."""
    if "://" in source or Path(source).is_absolute():
        return source
    base = str(data).rstrip("/")
    name = source if source.endswith(".parquet") else f"{source}.parquet"
    return f"{base}/{name}"


def _local(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(uri[len("file://"):])
    return None if "://" in uri else Path(uri)


def _missing(name: str, where: str, exc=None) -> DLSError:
    err = DLSError(f"La table « {name} » est introuvable : « {where} » est attendu (fichier ou dossier Parquet, "
                   "ou table du métastore).", file=where)
    err.__cause__ = exc
    return err


_NOT_FOUND = ("PATH_NOT_FOUND", "No files found", "does not exist", "TABLE_OR_VIEW_NOT_FOUND", "not found",
              "No such file", "Path does not exist")


def read_table(con, data, name: str, source: str, *, metastore: bool = False):
    """The Ibis table ``name`` read by the engine ``con`` (see the module's docstring).

    Raises
    ------
    DLSError
        « La table « nom » est introuvable : « URI » est attendu … » when the engine finds nothing.
    """
    try:
        if metastore:
            db, _, table = source.rpartition(".")
            return con.table(table, database=db or None)
        uri = source_uri(data, source)
        if _is_spark(con):
            return con.read_parquet(uri, table_name=f"dls_{name}")
        return _duckdb_parquet(con, uri, name)
    except DLSError:
        raise
    except Exception as exc:               # the engine's own "not found", whatever its class
        if type(exc).__name__ == "TableNotFound" or any(s.lower() in str(exc).lower() for s in _NOT_FOUND):
            raise _missing(name, source if metastore else source_uri(data, source), exc) from exc
        raise


_DUCKDB_CANNOT = ("hdfs://", "viewfs://", "wasb://", "wasbs://")


def _duckdb_parquet(con, uri: str, name: str):
    """DuckDB: a file as it is; a folder as ``folder/**/*.parquet`` with its ``key=value``
    partition columns (hive partitioning); remote URIs through DuckDB's httpfs/azure readers
    (``s3://``, ``abfss://``, ``az://``, ``https://``); HDFS refused in French (Spark reads it)."""
    if uri.startswith(_DUCKDB_CANNOT):
        raise DLSError(f"La table « {name} » est sur « {uri.split('://')[0]}:// », que DuckDB ne lit pas : "
                       f"lancez le calcul avec « --moteur spark » (« {uri} »).", file=uri, value=uri)
    local = _local(uri)
    target = str(local) if local is not None else uri
    if local is not None and local.is_dir():
        target = f"{local}/**/*.parquet"
    opts = {"table_name": f"dls_{name}", "hive_partitioning": True, "union_by_name": True}
    if local is not None:
        return con.read_parquet(target, **opts)
    try:                                   # a remote file, else a remote folder of parts
        return con.read_parquet(target, **opts)
    except Exception:
        return con.read_parquet(f"{uri.rstrip('/')}/**/*.parquet", **opts)
