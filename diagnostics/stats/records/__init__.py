"""Indicators computed from individual records, one plan for DuckDB and Spark (``dls extraits-individuels``).

* :mod:`.grammar` — the YAML definitions: column presets, statuses, levels, care rules;
* :mod:`.inputs` — the engine and where each table is read (paths, URIs, partitioned folders,
  metastore tables);
* :mod:`.query` — the counts of every indicator at every level, rolled up by the engine;
* :mod:`.secrecy` — primary and secondary masking across nested territories and age bands;
* :mod:`.table` — values, Wilson limits, standardised rates and the CSV writer.
"""
from .grammar import DEFAULT_RECORD_CATALOGUE, RecordCatalogue, RecordIndicator, load_record_catalogue
from .inputs import ENGINES, connect
from .query import RecordCounts, count_records
from .table import EXTRACT_HEADER, records_extract, write_records_extract

__all__ = [
    "DEFAULT_RECORD_CATALOGUE",
    "ENGINES",
    "EXTRACT_HEADER",
    "RecordCatalogue",
    "RecordCounts",
    "RecordIndicator",
    "connect",
    "count_records",
    "load_record_catalogue",
    "records_extract",
    "write_records_extract",
]
