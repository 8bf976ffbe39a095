"""Parse the YAML configuration files (questionnaire, catalogue, dimensions, project, references).

One build reads the same files many times (every notebook loads the project, the questionnaire
and the catalogue; the catalogue loads the dimensions for each of its uses).  :func:`parse`
therefore uses libyaml's C parser when PyYAML was built with it (about ten times faster than the
pure-Python one, same safe constructor, same result) and keeps the documents already parsed in
this process, keyed by their text: a file edited between two calls is parsed again, an unchanged
one is not.  Each caller gets its own copy, so it may change what it receives.
"""
from __future__ import annotations

import copy
import functools

import yaml

#: The safe loader, in C when available (``yaml.__with_libyaml__``).
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _parse(text: str):
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader (C or Python)


def parse(text: str):
    """The YAML document ``text``, as :func:`yaml.safe_load` returns it.

    Parameters
    ----------
    text : str
        The content of a YAML file.

    Returns
    -------
    object
        A fresh (deep) copy of the parsed document: dicts, lists, strings, numbers, dates.

    Raises
    ------
    yaml.YAMLError
        The text is not valid YAML (with ``problem_mark`` giving the line), as with
        :func:`yaml.safe_load`; a failure is not cached.
    """
    return copy.deepcopy(_parse(text))
