"""Build every deliverable with one command: ``dls build --out livrables/``.

The analyst notebooks (``notebooks/0*.py``, jupytext "percent" text files) are converted to
notebooks and executed headless, with their parameters injected by papermill, in **one** Python
kernel: the heavy steps (validate, weight, compute the indicators) run once, in notebooks 01–03,
which write their results to a work folder; notebook 04 runs once per quartier and 05 once for
the synthesis, reading those results.  The HTML reports are then printed to PDF with headless
Chromium, two at a time.

Output is atomic: everything is built in a temporary folder next to the output folder and
swapped in only when the whole build succeeded; a failed build leaves the previous deliverables
untouched and says, in French, which notebook and which cell failed and why.

Layout of the output folder::

    livrables/
      dls_<quartier>.html, dls_<quartier>.pdf     one per quartier
      dls_synthese.html, dls_synthese.pdf         the cross-quartier synthesis
      indicateurs.csv                             the protected indicator table
      carnets/0*.ipynb                            the executed notebooks (for the record)
      LISEZMOI.txt
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import fmt
from .errors import DLSError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
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


def report_name(quartier_id: str) -> str:
    """File stem of a quartier's deliverable (``dls_biollay``)."""
    return f"dls_{quartier_id}"


SYNTHESIS_NAME = "dls_synthese"


def _load_notebook(name: str, parameters: dict):
    """Read ``notebooks/<name>.py`` (jupytext percent format) and inject ``parameters`` (papermill)."""
    import jupytext
    from papermill.parameterize import parameterize_notebook

    path = NOTEBOOKS / f"{name}.py"
    if not path.is_file():
        raise DLSError(f"Le carnet « {path} » est introuvable : la copie du projet est incomplète.")
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb = parameterize_notebook(nb, parameters, report_mode=False)
    return nb


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
    kind = "" if ename in ("DLSError", "ConfigurationError", "UnreadableFileError", "EstimationError") else f"{ename} : "
    return DLSError(f"Le carnet « {name} » s'est arrêté à la cellule de code n° {len(code_cells)} "
                    f"(« {first[:80]} ») : {kind}{evalue}")


class _Kernel:
    """One Jupyter kernel shared by all the notebooks of a build."""

    def __init__(self, cwd: Path, timeout: int = 600):
        from nbclient import NotebookClient
        import nbformat

        self.timeout = timeout
        boot = nbformat.v4.new_notebook()
        self.client = NotebookClient(boot, kernel_name="python3", timeout=timeout, allow_errors=False,
                                     resources={"metadata": {"path": str(cwd)}})
        self.client.km = self.client.create_kernel_manager()
        self._sockets = None
        if os.name == "posix":
            self._sockets = tempfile.mkdtemp(prefix="dls-noyau-")
            self.client.km.transport = "ipc"  # local sockets: nothing listens on the network
            self.client.km.ip = str(Path(self._sockets) / "kernel")
        self.client.start_new_kernel(cwd=str(cwd))
        self.client.start_new_kernel_client()

    def run(self, name: str, nb):
        """Execute ``nb`` in the shared kernel (namespace reset first); raise DLSError on failure."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
        import nbformat

        reset = nbformat.v4.new_code_cell("%reset -f")
        nb.cells.insert(0, reset)
        client = NotebookClient(nb, km=self.client.km, timeout=self.timeout, allow_errors=False,
                                kernel_name="python3")
        client.kc = self.client.kc
        try:
            client.execute()
        except CellExecutionError as exc:
            nb.cells.pop(0)
            raise _cell_error(name, nb, exc) from None
        except CellTimeoutError as exc:
            raise DLSError(f"Le carnet « {name} » n'a pas terminé une cellule en {self.timeout} secondes.") from exc
        except DeadKernelError as exc:
            raise DLSError(f"Le noyau Python s'est arrêté brutalement pendant le carnet « {name} » "
                           "(mémoire insuffisante ?).") from exc
        nb.cells.pop(0)
        return nb

    def close(self):
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


class _Chromium:
    """A headless Chromium driven through the DevTools protocol on a pipe (``--remote-debugging-pipe``).

    One browser prints several documents: the start-up cost is paid once and the plotly
    library, compiled once per tab, is reused by the next document printed in that tab.
    """

    def __init__(self, timeout: float = 120):
        import json
        import queue
        import subprocess
        import threading

        from .pdf import _BASE_FLAGS, find_chromium

        self._json, self.timeout = json, timeout
        self.profile = tempfile.mkdtemp(prefix="dls-chromium-")
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()

        def fds():  # the protocol pipes are fds 3 (commands) and 4 (answers) of the browser
            a, b = os.dup(r_in), os.dup(w_out)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [find_chromium(), *_BASE_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             "about:blank"], preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_in)
        os.close(w_out)
        self._w = os.fdopen(w_in, "wb", buffering=0)
        self._r = os.fdopen(r_out, "rb", buffering=0)
        self._lock = threading.Lock()
        self._next = 0
        self._replies: dict[int, queue.Queue] = {}
        self._events: dict[str, queue.Queue] = {}
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self):
        buf = b""
        while True:
            try:
                chunk = self._r.read(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                for q in list(self._replies.values()):
                    q.put({"error": {"message": "le navigateur s'est arrêté"}})
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = self._json.loads(raw)
                if "id" in msg:
                    q = self._replies.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                elif msg.get("sessionId") in self._events:
                    self._events[msg["sessionId"]].put(msg)

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout=None):
        import queue

        with self._lock:
            self._next += 1
            mid = self._next
            q = self._replies[mid] = queue.Queue()
            msg = {"id": mid, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            self._w.write(self._json.dumps(msg).encode("utf-8") + b"\0")
        try:
            reply = q.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise DLSError(f"Chromium ne répond plus ({method}) après {self.timeout:g} secondes.") from None
        finally:
            self._replies.pop(mid, None)
        if "error" in reply:
            raise DLSError(f"Chromium a refusé « {method} » : {reply['error'].get('message', reply['error'])}.")
        return reply.get("result", {})

    def new_tab(self) -> str:
        import queue

        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._events[session] = queue.Queue()
        self.call("Page.enable", session=session)
        return session

    def print_pdf(self, session: str, html: Path, pdf: Path) -> None:
        """Load ``html`` in the tab, wait for its figures, print it to ``pdf`` (atomically)."""
        import base64
        import queue

        events = self._events[session]
        while not events.empty():
            events.get_nowait()
        self.call("Page.navigate", {"url": Path(html).resolve().as_uri()}, session)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                ev = events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise DLSError(f"Chromium n'a pas fini de charger « {Path(html).name} ».") from None
            if ev.get("method") == "Page.loadEventFired":
                break
        # figures are drawn while the page is parsed; wait for plotly's promises to settle
        self.call("Runtime.evaluate", {"expression": "Promise.all(window.dlsFigures || [])", "awaitPromise": True},
                  session)
        res = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                            "displayHeaderFooter": False}, session)
        data = base64.b64decode(res["data"])
        if data[:5] != b"%PDF-":
            raise DLSError(f"Chromium a produit un fichier qui n'est pas un PDF pour « {Path(pdf).name} ».")
        fd, tmp = tempfile.mkstemp(prefix=f".{Path(pdf).stem}-", suffix=".pdf", dir=Path(pdf).parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, pdf)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except DLSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - never leave a browser behind
            self.proc.kill()
        for fh in (self._w, self._r):
            try:
                fh.close()
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class PdfPrinter:
    """Print HTML files to PDF in the background while the build goes on.

    One headless Chromium with ``workers`` tabs (DevTools pipe); :meth:`submit` queues a
    document as soon as it is written, :meth:`wait` returns when every PDF is written (and
    re-raises the first failure).  Where the DevTools pipe is unavailable (Windows), each
    document is printed by :func:`diagnostics.pdf.html_to_pdf`, ``workers`` at a time.
    """

    def __init__(self, workers: int = 2):
        import queue

        self.workers = max(1, workers)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers)
        self.futures: list[concurrent.futures.Future] = []
        self.browser = None
        self.tabs: queue.Queue = queue.Queue()
        # the browser starts in the background, while the notebooks run
        self._starter = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._started = self._starter.submit(self._start) if os.name == "posix" else None

    def _start(self) -> None:
        self.browser = _Chromium()
        for _ in range(self.workers):
            self.tabs.put(self.browser.new_tab())

    def _print(self, html: Path, pdf: Path) -> None:
        if self._started is None:
            from .pdf import html_to_pdf

            html_to_pdf(html, pdf)
            return
        self._started.result()
        tab = self.tabs.get()
        try:
            self.browser.print_pdf(tab, html, pdf)
        finally:
            self.tabs.put(tab)

    def submit(self, html: str | Path, pdf: str | Path) -> None:
        """Queue ``html`` for printing to ``pdf``."""
        self.futures.append(self.pool.submit(self._print, Path(html), Path(pdf)))

    def wait(self) -> None:
        """Block until every queued PDF is written; raise the first error."""
        for f in self.futures:
            f.result()

    def close(self) -> None:
        for f in self.futures:
            f.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._started is not None:
            try:
                self._started.result()
            except Exception:  # noqa: BLE001 - the error was (or will be) reported by wait()
                pass
            self._starter.shutdown(wait=True)
        if self.browser is not None:
            self.browser.close()
            self.browser = None


def print_pdfs(pairs: list[tuple[Path, Path]], workers: int = 2) -> None:
    """Print several HTML files to PDF with **one** headless Chromium and ``workers`` tabs."""
    printer = PdfPrinter(workers)
    try:
        for h, p in pairs:
            printer.submit(h, p)
        printer.wait()
    finally:
        printer.close()


def build(out: str | Path = "livrables", projet: str | Path | None = None, *, pdf: bool = True,
          progress=None, keep_work: bool = False, indicator_table: str | Path | None = None) -> BuildResult:
    """Build the per-quartier deliverables (HTML + PDF) and the synthesis into ``out``.

    Parameters
    ----------
    out : path-like
        Output folder (created; replaced atomically when it holds a previous build).
    projet : path-like, optional
        Project configuration (see :mod:`diagnostics.project`); the embedded Chambéry example
        on synthetic data by default.
    pdf : bool
        Also print every HTML report to PDF (needs Chromium).
    progress : callable, optional
        ``progress(message: str)`` called at each stage (the CLI prints it).
    keep_work : bool
        Keep the intermediate work folder (respondent-level tables) in the output; off by
        default, since deliverables must only hold published figures.
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
        missing browser; the previous content of ``out`` is then left untouched.
    """
    from .project import DEFAULT_PROJECT, load_project

    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    projet_path = Path(projet).resolve() if projet is not None else DEFAULT_PROJECT
    project = load_project(projet_path)
    if pdf:
        from .pdf import find_chromium

        find_chromium()  # fail early, in French, before any work
    out = Path(out).resolve()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.construction-", dir=out.parent))
    kernel = printer = None
    try:
        work = tmp / WORK
        work.mkdir()
        (tmp / "carnets").mkdir()
        common = {"projet": str(projet_path), "dossier_travail": str(work)}
        table_param = {"tableau_indicateurs": str(Path(indicator_table).resolve()) if indicator_table else None}
        runs = [("01_verifier_reponses", common, "Vérification des réponses"),
                ("02_ponderer", common, "Pondération (calage sur les marges)"),
                ("03_indicateurs", {**common, **table_param}, "Calcul et protection des indicateurs")]
        for q in project.quartiers:
            runs.append(("04_livrable_quartier", {**common, "quartier": q.id, "dossier_sortie": str(tmp),
                                                  "fichier": report_name(q.id) + ".html"},
                         f"Livrable du quartier {q.libelle}"))
        runs.append(("05_synthese", {**common, "dossier_sortie": str(tmp), "fichier": SYNTHESIS_NAME + ".html"},
                     "Synthèse des quartiers"))
        total = len(runs) + (1 if pdf else 0)
        t0 = time.perf_counter()
        say(f"[0/{total}] Démarrage du noyau Python{' et de Chromium' if pdf else ''}…")
        import nbformat

        if pdf:  # PDFs are printed in the background as soon as each report is written
            printer = PdfPrinter(workers=2)
        kernel = _Kernel(NOTEBOOKS)
        timings["demarrage"] = time.perf_counter() - t0
        htmls = []
        for k, (name, params, label) in enumerate(runs, start=1):
            t0 = time.perf_counter()
            say(f"[{k}/{total}] {label} (carnet {name})…")
            nb = kernel.run(name, _load_notebook(name, params))
            suffix = f"_{params['quartier']}" if "quartier" in params else ""
            nbformat.write(nb, tmp / "carnets" / f"{name}{suffix}.ipynb")
            timings[f"{name}{suffix}"] = time.perf_counter() - t0
            if "fichier" in params:
                html = tmp / params["fichier"]
                if not html.is_file():
                    raise DLSError(f"Le carnet « {name} » n'a pas produit le rapport « {html.name} ».")
                htmls.append(html)
                if printer is not None:
                    printer.submit(html, html.with_suffix(".pdf"))
        kernel.close()
        kernel = None
        if printer is not None:
            t0 = time.perf_counter()
            say(f"[{total}/{total}] Impression des {len(htmls)} PDF avec Chromium (commencée en parallèle)…")
            printer.wait()
            printer.close()
            printer = None
            timings["pdf_attente"] = time.perf_counter() - t0
        if (work / "indicateurs.csv").is_file():
            shutil.copy2(work / "indicateurs.csv", tmp / "indicateurs.csv")
        if not keep_work:
            shutil.rmtree(work)
        (tmp / MARKER).write_text("Dossier produit par « dls build » ; il est remplacé à chaque construction.\n",
                                  encoding="utf-8")
        (tmp / "LISEZMOI.txt").write_text(_readme(project, htmls, pdf), encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        if kernel is not None:
            kernel.close()
        if printer is not None:
            printer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    timings["total"] = time.perf_counter() - t_start
    files = sorted(p for p in out.iterdir() if p.suffix in (".html", ".pdf"))
    say(f"Terminé en {fmt.number(timings['total'], 1)} s : {len(files)} fichiers dans « {out} ».")
    return BuildResult(out=out, files=files, timings=timings)


def _readme(project, htmls, pdf: bool) -> str:
    lines = [f"{project.titre} — livrables produits par « dls build »", ""]
    for h in htmls:
        lines.append(f"- {h.name}" + (f" et {h.with_suffix('.pdf').name}" if pdf else ""))
    lines += ["- indicateurs.csv : le tableau des indicateurs publiés (après secret statistique)",
              "- carnets/ : les carnets d'analyse exécutés, pour mémoire", "",
              "Les fichiers HTML s'ouvrent sans connexion internet dans n'importe quel navigateur."]
    if project.donnees_synthetiques:
        lines += ["", "ATTENTION : ces livrables sont construits sur des données SYNTHÉTIQUES (fictives)."]
    return "\n".join(lines) + "\n"
