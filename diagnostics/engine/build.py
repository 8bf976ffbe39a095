"""Build every deliverable with one command: ``dls build --out livrables/``.

The analyst notebooks (``notebooks/0*.py``, jupytext "percent" text files) are converted to
notebooks and executed headless, with their parameters injected by papermill, in **one** Python
kernel: the heavy steps (validate, weight, compute the indicators) run once, in notebooks 01–03,
which write their results to a work folder; notebook 04 runs once per quartier and 05 once for
the synthesis, reading those results.  Both processors work from the start: what notebook 03
compares the current survey with (the previous diagnostic, the extracts' series) does not
depend on it and is computed meanwhile in a second process (:mod:`diagnostics.engine.history`);
the analyst's table is written in a thread as soon as notebook 03 has computed it; each HTML
report is printed to PDF with headless Chromium as soon as it is written, two at a time, while
the next notebooks run.

Output is atomic: everything is built in a temporary folder next to the output folder and
swapped in only when the whole build succeeded; a failed build leaves the previous deliverables
untouched and says, in French, which notebook and which cell failed and why.

Layout of the output folder::

    livrables/
      dls_<quartier>.html, dls_<quartier>.pdf     one per quartier
      dls_synthese.html, dls_synthese.pdf         the cross-quartier synthesis
      indicateurs.xlsx, indicateurs.csv           the protected indicator table (analyst's format)
      LISEZMOI.txt

Nothing row-level goes there: the executed notebooks (which show rejected rows, respondents'
cells) are written to the analyst's working folder beside it, ``livrables_travail/carnets/``
(:func:`work_folder`), replaced at each successful build; ``keep_work=True`` also keeps the
intermediate respondent-level tables in ``livrables_travail/tables/``.
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import fmt, paths
from ..errors import DLSError
from ..io.files import DRIVE_REFUSALS, WRITE_REFUSALS, exclusive_lock, honour_umask

NOTEBOOKS = paths.NOTEBOOKS
MARKER = ".dls_livrables"
WORK = "_travail"

#: The notebooks, in execution order.
STEPS = ("01_verifier_reponses", "02_ponderer", "03_indicateurs", "04_livrable_quartier", "05_synthese")


@dataclass
class BuildResult:
    """What a build produced and how long each stage took (seconds)."""

    out: Path
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    work: Path | None = None


def work_folder(out: str | Path) -> Path:
    """The analyst's working folder of a build into ``out``: ``<out>_travail`` beside it.

    It holds what must not reach the committee: the executed notebooks (``carnets/``) and, on
    request, the respondent-level intermediate tables (``tables/``).
    """
    out = Path(out)
    return out.with_name(f"{out.name}_travail")


def report_name(quartier_id: str) -> str:
    """File stem of a quartier's deliverable (``dls_biollay``)."""
    return f"dls_{quartier_id}"


SYNTHESIS_NAME = "dls_synthese"


def _without_unused_grammar() -> None:
    """Keep ``jsonschema`` from compiling the RFC 3987 grammar that ``nbformat`` never uses.

    ``nbformat`` imports ``jsonschema``, whose format checkers import ``rfc3987_syntax`` when it
    is installed (an optional extra pulled in by Jupyter's event schemas) and build a Lark parser
    for IRIs at import time: about 0.8 s of processor at every build for an ``iri`` format no
    notebook schema declares.  Marking the module absent (``sys.modules[name] = None`` makes
    ``import`` raise ``ImportError``, which ``jsonschema`` expects) skips it; nothing else in
    ``dls build``'s process uses it.  The notebooks' kernel is another process, unaffected.
    """
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)


def _load_notebooks(runs) -> list:
    """Each ``notebooks/<name>.py`` of ``runs`` read once (jupytext percent format), then one
    copy per run with its parameters injected (papermill).

    Notebook 04 runs once per quartier: reading and validating it cost 12 ms each time, 0.4 s of
    the build's start at 30 quartiers; a copy costs 0.1 ms.
    """
    import copy

    read, notebooks = {}, []
    for name, params, *_ in runs:
        if name not in read:
            read[name] = _read_notebook(name)
        notebooks.append(_parameterised(copy.deepcopy(read[name]), params))
    return notebooks


def _read_notebook(name: str):
    """``notebooks/<name>.py`` (jupytext percent format) as a notebook for the build's kernel."""
    _without_unused_grammar()
    import jupytext

    path = NOTEBOOKS / f"{name}.py"
    if not path.is_file():
        raise DLSError(f"Le carnet « {path} » est introuvable : la copie du projet est incomplète.")
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return nb


def _parameterised(nb, parameters: dict):
    """``nb`` with ``parameters`` injected after its ``parameters`` cell (papermill)."""
    from papermill.parameterize import parameterize_notebook

    return parameterize_notebook(nb, parameters, report_mode=False)


def _errno_of(evalue: str) -> int | None:
    """The errno of an ``OSError`` message as a kernel reports it (« [Errno 28] No space left… »)."""
    import re

    m = re.match(r"\[Errno (\d+)\]", str(evalue).strip())
    return int(m.group(1)) if m else None


def _drive_error(code: int, where: str, out: Path | None = None) -> DLSError:
    """The output drive refused a write (full, read-only, no right): one sentence, whoever wrote."""
    folder = f" « {out} »" if out is not None else ""
    return DLSError(f"Impossible d'écrire les livrables dans le dossier de sortie{folder} : {WRITE_REFUSALS[code]} "
                    f"({where}). Rien n'a été remplacé : les livrables précédents sont intacts. Libérez de la "
                    "place ou choisissez un autre dossier de sortie (--out).")


def _cell_error(name: str, nb, exc) -> DLSError:
    """Turn a failed cell into one French sentence: notebook, cell number, first code line, error."""
    failed = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                failed = (i, cell, o)
    if failed is None:
        return DLSError(f"Le carnet « {name} » s'est arrêté : {exc}.")
    i, cell, o = failed
    code_cells = [c for c in nb.cells[:i + 1] if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    ename, evalue = o.get("ename", "Erreur"), o.get("evalue", "")
    code = _errno_of(evalue) if ename in ("OSError", "PermissionError") else None
    if code in DRIVE_REFUSALS:   # the output drive, not the notebook: say it as « dls » says it elsewhere
        return _drive_error(code, f"carnet « {name} », cellule de code n° {len(code_cells)}")
    kind = "" if ename in ("DLSError", "ConfigurationError", "UnreadableFileError", "EstimationError") else f"{ename} : "
    return DLSError(f"Le carnet « {name} » s'est arrêté à la cellule de code n° {len(code_cells)} "
                    f"(« {first[:80]} ») : {kind}{evalue}")


#: The cell run before each notebook in the shared kernel: ``%reset -f`` removes the names the
#: previous notebook defined and its cached outputs, so that a notebook that works in the build
#: works alone; ``gc.freeze()`` then sets aside every object alive at that point (modules,
#: caches) from the collector's later passes.  ``%reset -f`` runs two full collections, 0.07 s
#: each time over all of pandas and scipy (2.5 s of the kernel at 30 quartiers); after the
#: freeze, 0.004 s.  A frozen object is never collected as part of a reference cycle: the
#: kernel lives for one build.
_RESET = "%reset -f\nimport gc as _gc\n_gc.freeze()\ndel _gc"

#: Imported by the kernel as it starts (IPython's ``exec_lines``), before it answers: the
#: modules every notebook needs, about 0.7 s, loaded while the build reads the notebooks and
#: starts the printer instead of after, in notebook 01.  Names only, no computation; the
#: ``%reset -f`` of :data:`_RESET` removes the names, the modules stay loaded as any import.
PRELOAD = ("import pandas",
           "import diagnostics.collect.validation, diagnostics.engine.indicators, diagnostics.engine.evolution",
           "import diagnostics.publish.report")


class _Kernel:
    """One Jupyter kernel shared by all the notebooks of a build.

    Started in two steps: the process is launched at once (:meth:`__init__`), and
    :meth:`ready` waits for it after the build has started its other work, so that the kernel
    starts and imports :data:`PRELOAD` while the notebooks are read and the printer starts.
    """

    def __init__(self, cwd: Path, timeout: int = 600):
        _without_unused_grammar()
        import nbformat
        from nbclient import NotebookClient

        self.timeout = timeout
        boot = nbformat.v4.new_notebook()
        self.client = NotebookClient(boot, kernel_name="python3", timeout=timeout, allow_errors=False,
                                     resources={"metadata": {"path": str(cwd)}}, shutdown_kernel="immediate",
                                     extra_arguments=[f"--IPKernelApp.exec_lines={line}" for line in PRELOAD])
        self.client.km = self.client.create_kernel_manager()
        self._sockets = None
        if os.name == "posix":
            self._sockets = tempfile.mkdtemp(prefix="dls-noyau-")
            self.client.km.transport = "ipc"  # local sockets: nothing listens on the network
            self.client.km.ip = str(Path(self._sockets) / "kernel")
        try:
            self.client.start_new_kernel(cwd=str(cwd))
        except BaseException:  # Ctrl-C or a failed start: no kernel, no /tmp/dls-noyau-* left behind
            self.close()
            raise

    def ready(self) -> None:
        """Connect to the kernel and wait until it answers (it has run :data:`PRELOAD`)."""
        try:
            self.client.start_new_kernel_client()
        except BaseException:
            self.close()
            raise

    def run(self, name: str, nb):
        """Execute ``nb`` in the shared kernel (namespace reset first); raise DLSError on failure."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import (
            CellExecutionError,
            CellTimeoutError,
            DeadKernelError,
        )

        nb.cells.insert(0, nbformat.v4.new_code_cell(_RESET))
        client = NotebookClient(nb, km=self.client.km, timeout=self.timeout, allow_errors=False,
                                kernel_name="python3", shutdown_kernel="immediate")
        client.kc = self.client.kc
        try:
            client.execute()
        except CellExecutionError as exc:
            nb.cells.pop(0)
            raise _cell_error(name, nb, exc) from None
        except CellTimeoutError as exc:
            raise DLSError(f"Le carnet « {name} » n'a pas terminé une cellule en {self.timeout} secondes.") from exc
        except DeadKernelError as exc:
            if getattr(client, "_async_cleanup_kernel_future", None) is not None:
                # nbclient's own Ctrl-C / SIGTERM handler stopped the kernel: an interruption
                raise KeyboardInterrupt from None
            raise DLSError(f"Le noyau Python s'est arrêté brutalement pendant le carnet « {name} » "
                           "(mémoire insuffisante ?).") from exc
        nb.cells.pop(0)
        return nb

    def close(self):
        """Stop the kernel at once: its results are written, it has nothing left to save.

        A graceful shutdown waits for the kernel process to exit on its own, which took up to
        2.5 s (the half of jupyter_client's ``shutdown_wait_time``) at the end of a build.
        """
        try:
            self.client._cleanup_kernel()
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass
        if self._sockets:
            shutil.rmtree(self._sockets, ignore_errors=True)


def _check_out(out: Path) -> None:
    """Refuse to replace a folder that is not a previous build (it may hold the user's files)."""
    if out.exists():
        if not out.is_dir():
            raise DLSError(f"« {out} » existe et n'est pas un dossier : choisissez un autre dossier de sortie.")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise DLSError(f"Le dossier « {out} » n'est pas vide et ne vient pas d'une construction précédente "
                           "des livrables : choisissez un dossier vide ou nouveau pour ne rien écraser.")


def _swap(tmp: Path, out: Path) -> None:
    """Put ``tmp`` in place of ``out`` with renames (the old folder is removed afterwards)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.ancien-", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build(out: str | Path = "livrables", projet: str | Path | None = None, *, pdf: bool = True,
          progress=None, keep_work: bool = False, indicator_table: str | Path | None = None) -> BuildResult:
    """Build the per-quartier deliverables (HTML + PDF) and the synthesis into ``out``.

    Parameters
    ----------
    out : path-like
        Output folder (created; replaced atomically when it holds a previous build).
    projet : path-like, optional
        Project configuration (see :mod:`diagnostics.config.project`); the embedded Chambéry example
        on synthetic data by default.
    pdf : bool
        Also print every HTML report to PDF (needs Chromium).
    progress : callable, optional
        ``progress(message: str)`` called at each stage (the CLI prints it).
    keep_work : bool
        Keep the intermediate respondent-level tables, in the working folder
        (:func:`work_folder`, ``tables/``), never in the deliverables; off by default.
    indicator_table : path-like, optional
        An already computed, protected indicator table (CSV, ``;``) used instead of computing
        one in notebook 03.

    Returns
    -------
    BuildResult

    Raises
    ------
    DLSError
        Invalid project configuration, failing notebook (named, with its cell and the error),
        missing browser, another ``dls build`` writing into ``out`` at the same time (a lock
        file ``.<out>.verrou`` beside it, held with ``flock``); the previous content of ``out``
        is then left untouched.
    OSError
        A disk that fills or a folder that refuses a file during the build: the half-built
        folder is removed, the previous ``out`` left untouched (the CLI says so, exit 2).

    Notes
    -----
    The folders are created with the mode the user's umask gives (0755 with umask 022), not
    the 0700 of a temporary folder: on a shared drive the deliverables stay readable.
    """
    from ..config.project import DEFAULT_PROJECT, load_project

    _without_unused_grammar()   # before anything imports nbformat (1.1 s of processor otherwise)
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    projet_path = Path(projet).resolve() if projet is not None else DEFAULT_PROJECT
    project = load_project(projet_path)
    if not project.donnees_synthetiques:  # real data: no illustrative comparator, before any work
        from ..collect.references import refuse_illustrative

        refuse_illustrative(project)
    if pdf:
        from ..io.pdf import find_chromium

        find_chromium()  # fail early, in French, before any work
    out = Path(out).resolve()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    busy = (f"Une autre construction des livrables écrit déjà dans « {out} » (verrou « .{out.name}.verrou » "
            "tenu par un autre « dls build ») : attendez qu'elle se termine, ou choisissez un autre dossier "
            "de sortie.")
    with exclusive_lock(out.parent / f".{out.name}.verrou", busy):
        try:
            return _build_locked(out, project, projet_path, pdf, indicator_table, keep_work, say, t_start, timings)
        except OSError as exc:   # met by the build itself (tables, notebooks, PDFs): the half-built folder is gone
            if exc.errno not in DRIVE_REFUSALS:
                raise
            raise _drive_error(exc.errno, "en écrivant le tableau des indicateurs, les carnets exécutés ou les PDF",
                               out) from exc


def _build_locked(out, project, projet_path, pdf, indicator_table, keep_work, say, t_start, timings):
    from ..collect.pseudonym import get_secret, secret_path
    from ..paths import DEFINITIONS_FILE
    from .history import HISTORY_FILE, start_history

    _check_out(out)     # again, under the lock: the other build may have just finished
    tmp = honour_umask(tempfile.mkdtemp(prefix=f".{out.name}.construction-", dir=out.parent))
    kernel = printer = work_tmp = history = stopping = None
    writer, table = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="dls-tableau"), []
    try:
        work = tmp / WORK
        work.mkdir()
        common = {"projet": str(projet_path), "dossier_travail": str(work)}
        table_param = {"tableau_indicateurs": str(Path(indicator_table).resolve()) if indicator_table else None,
                       "historique": None if indicator_table else str(work / HISTORY_FILE)}
        # the synthesis before the quartiers' reports: its PDF, the longest to print, is printed
        # while they are written instead of lengthening the end of the build
        runs = [("01_verifier_reponses", common, "Vérification des réponses"),
                ("02_ponderer", common, "Pondération (calage sur les marges)"),
                ("03_indicateurs", {**common, **table_param}, "Calcul et protection des indicateurs"),
                ("05_synthese", {**common, "dossier_sortie": str(tmp), "fichier": SYNTHESIS_NAME + ".html",
                                 "fichier_definitions": DEFINITIONS_FILE},
                 "Synthèse des quartiers et document commun des définitions")]
        for q in project.quartiers:
            runs.append(("04_livrable_quartier", {**common, "quartier": q.id, "dossier_sortie": str(tmp),
                                                  "fichier": report_name(q.id) + ".html"},
                         f"Livrable du quartier {q.libelle}"))
        total = len(runs) + (1 if pdf else 0)
        t0 = time.perf_counter()
        say(f"[0/{total}] Démarrage du noyau Python…")
        kernel = _Kernel(NOTEBOOKS)   # first: it starts while the rest is set up, and waited for below
        if not indicator_table:   # the previous diagnostic and the series, on the other processor (history.py)
            # the secret once, before two processes could each make one; the embedded example's lives in
            # this temporary work folder and goes with it: no notice to keep it
            secret = secret_path(project, work)
            get_secret(secret, announce=secret.parent != work)
            history = start_history(projet_path, work)
        import nbformat

        if pdf:  # PDFs are printed in the background as soon as each report is written
            from ..io.pdf import PdfPrinter

            printer = PdfPrinter(workers=2)
        # the notebooks are read and parameterised (jupytext, papermill) while the kernel starts
        notebooks = _load_notebooks(runs)
        kernel.ready()
        timings["demarrage"] = time.perf_counter() - t0
        # the analyst's table is written as soon as notebook 3 has computed it, beside the reports
        executed, htmls = _run_notebooks(kernel, runs, notebooks, printer, timings, say, total,
                                         lambda: table.append(writer.submit(_write_indicator_table, work, tmp, project)))
        # the kernel process is stopped while the last PDFs print (0.1 s of waiting for it to exit)
        stopping = threading.Thread(target=kernel.close, name="dls-arret-noyau")
        stopping.start()
        kernel = None
        if history is not None:   # long finished: notebook 3 waited for it
            history.wait()
            history = None
        # while the last PDFs print: the executed notebooks (and the end of the analyst's table)
        t0 = time.perf_counter()
        for job in table:
            job.result()
        writer.shutdown()
        work_tmp = honour_umask(tempfile.mkdtemp(prefix=f".{out.name}_travail.construction-", dir=out.parent))
        (work_tmp / "carnets").mkdir()
        for fname, nb in executed.items():
            nbformat.write(nb, work_tmp / "carnets" / fname)
        timings["tableau_carnets"] = time.perf_counter() - t0
        if printer is not None:
            t0 = time.perf_counter()
            say(f"[{total}/{total}] Impression des {len(htmls)} PDF avec Chromium (commencée en parallèle)…")
            printer.wait()
            printer.close()
            printer = None
            timings["pdf_attente"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stopping.join()
        timings["arret_noyau"] = time.perf_counter() - t0
        if keep_work:
            shutil.move(str(work), str(work_tmp / "tables"))
        else:
            shutil.rmtree(work)
        (tmp / MARKER).write_text("Dossier produit par « dls build » ; il est remplacé à chaque construction.\n",
                                  encoding="utf-8")
        (tmp / "LISEZMOI.txt").write_text(_readme(project, htmls, pdf, out.name), encoding="utf-8")
        _swap(tmp, out)
        tmp = None
        _replace_work(work_tmp, work_folder(out))
        work_tmp = None
    except BaseException:
        try:
            writer.shutdown(wait=True, cancel_futures=True)   # nothing written into a removed folder
            if history is not None:
                history.kill()
                history.wait()
            if kernel is not None:
                kernel.close()
            if stopping is not None:
                stopping.join()
            if printer is not None:
                printer.close()
        finally:  # whatever happens while stopping, no half-built folder is left behind
            for t in (tmp, work_tmp):
                if t is not None:
                    shutil.rmtree(t, ignore_errors=True)
        raise
    timings["total"] = time.perf_counter() - t_start
    files = sorted(p for p in out.iterdir() if p.suffix in (".html", ".pdf"))
    from ..publish.constats import missing_statements

    for sentence in missing_statements(project):
        say(sentence)
    say(f"Terminé en {fmt.number(timings['total'], 1)} s : {len(files)} fichiers dans « {out} ».")
    return BuildResult(out=out, files=files, timings=timings, work=work_folder(out))


def _run_notebooks(kernel, runs, notebooks, printer, timings, say, total, after_indicators):
    """Execute the notebooks in order in ``kernel``; queue each report for printing once written.

    ``after_indicators()`` is called once notebook 3 has saved the indicator table.  Returns the
    executed notebooks (``{file name: notebook}``) and the reports written, in order.
    """
    executed, htmls = {}, []
    for k, ((name, params, label), nb) in enumerate(zip(runs, notebooks), start=1):
        t0 = time.perf_counter()
        say(f"[{k}/{total}] {label} (carnet {name})…")
        nb = kernel.run(name, nb)
        suffix = f"_{params['quartier']}" if "quartier" in params else ""
        executed[f"{name}{suffix}.ipynb"] = nb
        timings[f"{name}{suffix}"] = time.perf_counter() - t0
        if name == "03_indicateurs":
            after_indicators()
        for html in (Path(params["dossier_sortie"]) / params[key] for key in ("fichier", "fichier_definitions")
                     if key in params):
            if not html.is_file():
                raise DLSError(f"Le carnet « {name} » n'a pas produit le rapport « {html.name} ».")
            htmls.append(html)
            if printer is not None:
                printer.submit(html, html.with_suffix(".pdf"))
    return executed, htmls


def _write_indicator_table(work: Path, out: Path, project) -> None:
    """The analyst's indicator table (XLSX + French CSV), the same as ``dls indicators`` writes."""
    import pandas as pd

    from ..config.catalogue import load_project_catalogue
    from ..publish.indicator_table import write_analyst_table

    if not (work / "indicateurs.pkl").is_file():
        return
    table = pd.read_pickle(work / "indicateurs.pkl")
    catalogue = load_project_catalogue(project)
    from ..publish.sources import load_sources

    evolution = pd.read_pickle(work / "evolution.pkl") if (work / "evolution.pkl").is_file() else None
    write_analyst_table(table, out, catalogue, references=project.references,
                        sources=load_sources(project, catalogue), evolution=evolution)


def _replace_work(new: Path, work: Path) -> None:
    """Put the new working folder in place of the previous one."""
    old = None
    if work.exists():
        old = work.with_name(f".{work.name}.ancien-{os.getpid()}")
        os.replace(work, old)
    os.replace(new, work)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _readme(project, htmls, pdf: bool, out_name: str = "livrables") -> str:
    lines = [f"{project.titre} — livrables produits par « dls build »", ""]
    for h in htmls:
        lines.append(f"- {h.name}" + (f" et {h.with_suffix('.pdf').name}" if pdf else ""))
    lines += ["- indicateurs.xlsx et indicateurs.csv : le tableau des indicateurs publiés (après secret "
              "statistique), avec la feuille des définitions et, quand le projet les a, les feuilles "
              "« Évolution » (depuis le diagnostic précédent, aussi dans indicateurs_evolution.csv) et "
              "« Tendances » (séries des extraits)",
              f"Les carnets d'analyse exécutés (avec des données individuelles) restent dans le dossier de "
              f"travail de l'analyste, « {out_name}_travail/carnets/ », et ne sont pas à diffuser.", "",
              "Les fichiers HTML s'ouvrent sans connexion internet dans n'importe quel navigateur."]
    if project.donnees_synthetiques:
        lines += ["", "ATTENTION : ces livrables sont construits sur des données SYNTHÉTIQUES (fictives)."]
    return "\n".join(lines) + "\n"
