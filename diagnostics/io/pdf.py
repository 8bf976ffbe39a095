"""Print HTML files to PDF (and PNG) with headless Chromium: the toolkit's one printer.

Used by the paper form (:mod:`diagnostics.collect.paper_form`) and the reports
(:mod:`diagnostics.engine.build`).  :class:`PdfPrinter` drives one headless Chromium through
Playwright (one browser, several tabs, a thread of its own); without Playwright, each document is
printed by a short-lived Chromium subprocess with a throw-away profile.  Every PDF then goes
through :func:`finish_pdf` (accessibility and portability: page furniture marked as artifacts,
links to the sibling documents made relative, doubled bookmarks repaired) and is written to a
temporary file next to the target and renamed atomically, so a reader never sees a half-written
PDF.

The browser is looked up in this order: the ``DLS_CHROMIUM`` environment variable, then
``chromium``, ``chromium-browser``, ``google-chrome`` (and ``google-chrome-stable``) on the
``PATH``, then the usual install locations of Chrome and Edge on Linux, macOS and Windows.
"""
from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DLSError
from .files import atomic_path

_PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "msedge",
               "microsoft-edge")
_KNOWN_LOCATIONS = (
    "/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium",
    "/usr/bin/google-chrome", "/opt/google/chrome/chrome", "/usr/bin/microsoft-edge",
    "/opt/microsoft/msedge/msedge",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    r"C:\Program Files\Microsoft\Edge\Application\msedge.exe",
)

# Flags common to every run: no sandbox (containers), no GPU, no network chatter, fresh profile.
_BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--mute-audio")


def find_chromium() -> str:
    """Return the path of a Chromium-based browser able to print PDF headlessly.

    Returns
    -------
    str
        Executable path.

    Raises
    ------
    DLSError
        In French, when no browser is found (or ``DLS_CHROMIUM`` points nowhere).

    Notes
    -----
    Order: ``$DLS_CHROMIUM``; ``chromium``, ``chromium-browser``, ``google-chrome``,
    ``google-chrome-stable``, ``msedge``, ``microsoft-edge`` on the ``PATH``; known install paths.
    """
    env = os.environ.get("DLS_CHROMIUM")
    if env:
        found = shutil.which(env) or (env if Path(env).is_file() else None)
        if not found:
            raise DLSError(f"La variable DLS_CHROMIUM désigne « {env} », qui n'est pas un navigateur "
                           "exécutable : corrigez-la ou supprimez-la.")
        return found
    for name in _PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for loc in _KNOWN_LOCATIONS:
        if Path(loc).is_file():
            return loc
    raise DLSError("Aucun navigateur Chromium, Chrome ou Edge n'a été trouvé pour produire le PDF : "
                   "installez Chromium (par exemple « apt install chromium ») ou indiquez son chemin "
                   "dans la variable d'environnement DLS_CHROMIUM.")


def _run(args: list[str], target: Path, timeout: float) -> None:
    """Run Chromium with ``args`` (a profile dir is added) and check that ``target`` was written."""
    with tempfile.TemporaryDirectory(prefix="dls-chromium-") as profile:
        cmd = [find_chromium(), *_BASE_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DLSError(f"Chromium n'a pas terminé en {timeout:g} secondes la production de "
                           f"« {target.name} » : réessayez ou augmentez le délai.") from exc
        except OSError as exc:
            raise DLSError(f"Impossible de lancer le navigateur « {cmd[0]} » : {exc.strerror}.") from exc
    if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise DLSError(f"Chromium n'a pas pu produire « {target.name} » (code de sortie "
                       f"{proc.returncode}) : {' / '.join(tail) or 'aucun message'}.")


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, timeout: float = 120) -> Path:
    """Print an HTML file to PDF with headless Chromium (:class:`PdfPrinter`, one document).

    Page size and margins come from the document's CSS ``@page`` rule (Chromium honours
    ``size: A4``); browser headers and footers (date, URL) are switched off.  The PDF is
    tagged (structure tree) and has an outline (bookmarks) built from the document's headings;
    :func:`finish_pdf` then marks the page furniture as artifacts and makes the links to the
    documents of the same folder relative.

    Parameters
    ----------
    html_path : path-like
        Existing HTML file (relative links to CSS and images resolve from its folder).
    pdf_path : path-like
        Output file; written to a temporary file in the same folder then renamed atomically.
    timeout : float
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    DLSError
        Missing HTML file, no browser, timeout, or Chromium failure (message in French).
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise DLSError(f"Le fichier HTML « {html_path} » est introuvable : impossible de produire le PDF.")
    print_pdfs([(html_path, pdf_path)], workers=1, timeout=timeout)
    return pdf_path


def _print_with_subprocess(html_path: Path, pdf_path: Path, timeout: float) -> bytes:
    """The printer without Playwright: one Chromium subprocess prints ``html_path``; its bytes."""
    with tempfile.TemporaryDirectory(prefix="dls-pdf-") as tmpdir:
        tmp = Path(tmpdir) / pdf_path.name
        _run(["--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--generate-pdf-document-outline",
              f"--print-to-pdf={tmp}", html_path.as_uri()], tmp, timeout)
        return tmp.read_bytes()


def _write_pdf(data: bytes, html: Path, pdf: Path) -> None:
    """Check, finish (:func:`finish_pdf`) and write atomically the bytes Chromium printed."""
    if data[:5] != b"%PDF-":
        raise DLSError(f"Chromium a produit un fichier qui n'est pas un PDF pour « {pdf.name} ».")
    data = finish_pdf(data, html.parent)
    with atomic_path(pdf) as tmp:
        tmp.write_bytes(data)


_PAINT = re.compile(rb"(?:^|\s)(?:f\*?|F|B\*?|b\*?|S|s|sh)$")
_PATH_START = re.compile(rb"(?:^|\s)(?:m|re)$")
#: Lines that neither end a path (ISO 32000-1 § 8.5.2, table 59: construction operators) nor a
#: text object (``Tj``, ``TJ``, ``Tf``, ``Tm``, ``Td``): most lines of a drawing.
_GOING_ON = (b" c", b" l", b" m", b" v", b" y", b" re", b" Tj", b" TJ", b" Tf", b" Tm", b" Td")


def _artifact_content(data: bytes) -> bytes:
    """Wrap the untagged graphics objects of a content stream in ``/Artifact BMC … EMC``.

    Chromium tags what the document's structure holds (``/P <</MCID n>> BDC … EMC``) and draws
    the rest — the page numbers of the ``@page`` margin boxes, the spaces between words, box
    backgrounds and rules — outside any marked-content sequence, where PDF/UA checkers report
    it as untagged content.  Each text object (``BT … ET``), painted path and ``Do`` found at
    marked-content depth 0 is enclosed as an artifact (ISO 32000-1 § 14.8.2.2); a text object
    that itself holds marked content is left as it is.  Chromium writes one operator per line,
    text as hex strings: a line scan is enough.
    """
    out, depth, buf, kind = [], 0, [], None
    for line in data.split(b"\n"):
        t = line.strip()
        if kind is not None:            # inside a depth-0 text or path object
            buf.append(line)
            if t.endswith(_GOING_ON):   # a path or text still being built: the common case, no regex
                continue
            if (kind == "text" and t == b"ET") or (kind == "path" and (_PAINT.search(t) or t.endswith(b" n") or t == b"n")):
                wrap = not any(x.strip().endswith((b"BDC", b"BMC")) for x in buf) and not t.endswith(b"n")
                out += ([b"/Artifact BMC", *buf, b"EMC"] if wrap else buf)
                buf, kind = [], None
            continue
        if t.endswith((b"BDC", b"BMC")):
            depth += 1
        elif t == b"EMC":
            depth = max(depth - 1, 0)
        elif depth == 0 and t == b"BT":
            buf, kind = [line], "text"
            continue
        elif depth == 0 and _PATH_START.search(t):
            buf, kind = [line], "path"
            continue
        elif depth == 0 and t.endswith(b" Do"):
            out += [b"/Artifact BMC", line, b"EMC"]
            continue
        out.append(line)
    return b"\n".join(out + buf)


def _relative_action(action, folder: Path):
    """The action of a link, made to work in the delivered folder (``None``: drop the link).

    A ``file://`` link to a document of the PDF's own folder (``dls_biollay.html``, written by
    Chromium as an absolute address in the build's temporary folder) becomes a ``GoToR`` to the
    PDF of the same name (ISO 32000-1 § 12.6.4.3: the file specification is relative to the
    document); a ``file://`` link anywhere else cannot work on the reader's computer and is
    dropped; web links are kept.
    """
    from urllib.parse import unquote, urlparse

    import pikepdf

    uri = str(action.get("/URI", "")) if action.get("/S") == "/URI" else ""
    if not uri.startswith("file:"):
        return action
    target = Path(unquote(urlparse(uri).path))
    if target.parent.resolve() != folder.resolve():
        return None
    name = target.with_suffix(".pdf").name if target.suffix in (".html", ".htm") else target.name
    return pikepdf.Dictionary(S=pikepdf.Name.GoToR, F=pikepdf.String(name),
                              D=pikepdf.Array([0, pikepdf.Name.Fit]), NewWindow=True)


def _repair_outline(items) -> None:
    """Halve the bookmark titles Chromium doubles (« Accès aux soinsAccès aux soins »)."""
    for item in items:
        title, half = item.title or "", len(item.title or "") // 2
        if title and len(title) % 2 == 0 and title[:half] == title[half:]:
            item.title = title[:half]
        _repair_outline(item.children)


def _figures_as_groups(node, inside: bool = False) -> bool:
    """Retag as ``/Div`` the figures that are groups, not graphics; whether ``node`` holds a
    figure with an alternative text.

    Two kinds, both found in one walk of the structure tree:

    - a figure nested in a figure that has an alternative text.  A chart is one ``<div
      role="img" aria-label="…">`` (its alternative text lists every value drawn); its drawings
      are ``<svg>`` elements (the page's and the phone's, one hidden), which Chromium may tag as
      figures without alternative text.  A reader of the outer figure's ``/Alt`` skips its
      content (ISO 32000-1 § 14.9.3), so the inner ones are only groups;
    - a figure without alternative text that holds a described one.  An HTML ``<figure>`` that
      groups a drawing (``<svg role="img" aria-label="…">``: the described figure) with its
      ``<figcaption>`` is tagged by Chromium as a ``/Figure`` without ``/Alt``; it is a group
      of a figure and its caption, not a graphic (ISO 32000-1 § 14.8.4.5, table 340:
      « Figure — an item of graphical content »; ISO 14289-1 § 7.3: every figure has an
      alternative text), so it becomes ``/Div`` and the drawing keeps its ``/Alt``.
    """
    import pikepdf

    kids = node.get("/K")
    holds = False
    for kid in (kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]):
        if not isinstance(kid, pikepdf.Dictionary) or "/S" not in kid:
            continue
        figure = kid.S == "/Figure"
        described = figure and "/Alt" in kid
        if figure and inside:
            kid.S = pikepdf.Name.Div
        inner = _figures_as_groups(kid, inside or described)
        if figure and not inside and not described and inner:
            kid.S = pikepdf.Name.Div
        holds = holds or inner or described
    return holds


def _relative_links(page, folder: Path) -> None:
    """Apply :func:`_relative_action` to the link annotations of ``page``."""
    import pikepdf

    if "/Annots" not in page.obj:
        return
    kept = pikepdf.Array()
    for annot in page.obj.Annots:
        if annot.get("/Subtype") == "/Link" and "/A" in annot:
            action = _relative_action(annot.A, folder)
            if action is None:
                continue
            annot.A = action
        kept.append(annot)
    page.obj.Annots = kept


def finish_pdf(data: bytes, folder: str | os.PathLike) -> bytes:
    """Make a PDF printed by Chromium accessible and portable; return the new bytes.

    Parameters
    ----------
    data : bytes
        The PDF as Chromium printed it (tagged, with an outline).
    folder : path-like
        The folder of the HTML document printed (its links to documents of the same folder are
        made relative: the deliverables are read from a copy of that folder).

    Returns
    -------
    bytes

    Notes
    -----
    Five repairs, each checked by ``tests/test_scale.py``: untagged page content
    (page numbers, backgrounds) marked as artifacts (:func:`_artifact_content`); ``file://``
    links made relative ``GoToR`` actions or dropped (:func:`_relative_action`); doubled
    bookmark titles halved (:func:`_repair_outline`); figures without alternative text that
    group a described figure and its caption, and figures nested in a described figure, retagged as
    groups (:func:`_figures_as_groups`).  The file is rewritten by qpdf (pikepdf)
    with object streams: about 0.2 s and a file a third of Chromium's size for a 40-page report.

    References
    ----------
    ISO 32000-1:2008, § 14.8.2.2 (real content and artifacts), § 12.6.4.3 (remote go-to
    actions); ISO 14289-1 (PDF/UA-1), § 7.1: content shall be tagged or marked as artifact.
    """
    import io

    import pikepdf

    folder = Path(folder)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            contents = page.obj.get("/Contents")
            if isinstance(contents, pikepdf.Stream):
                contents.write(_artifact_content(contents.read_bytes()))
            _relative_links(page, folder)
        with pdf.open_outline() as outline:
            _repair_outline(outline.root)
        if "/StructTreeRoot" in pdf.Root:
            _figures_as_groups(pdf.Root.StructTreeRoot)
        out = io.BytesIO()
        # Chromium's compressed streams are copied as they are (recompressing them cost a quarter of
        # this function for the same size); the rewritten content streams are compressed
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, recompress_flate=False)
    return out.getvalue()


def html_to_png(html_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1240,
                height: int = 1754, timeout: float = 120) -> Path:
    """Take a screenshot of an HTML file (screen rendering, not print) as a PNG.

    Parameters
    ----------
    html_path, png_path : path-like
        Input HTML and output PNG (written atomically).
    width, height : int
        Viewport size in CSS pixels (default: A4 at 150 dpi).
    timeout : float
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        ``png_path``.
    """
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    if not html_path.is_file():
        raise DLSError(f"Le fichier HTML « {html_path} » est introuvable : impossible de produire l'image.")
    with atomic_path(png_path) as tmp:
        _run([f"--window-size={int(width)},{int(height)}", f"--screenshot={tmp}", html_path.as_uri()],
             tmp, timeout)
    return png_path


#: Niceness of the printing thread and of the browser it starts (0 = as the build, 19 = lowest).
PRINT_NICENESS = 10


def _yield_processor() -> None:
    """Give the calling thread, and every process or thread it starts, a lower priority.

    On Linux the niceness is a property of each thread, inherited by the threads and processes
    it creates: set in the printing thread, it reaches the Playwright driver and Chromium, so
    that printing the first reports takes the processor only when the notebooks do not need
    it, instead of sharing it half and half (issue 31: 84 s of Chromium's processor at 30
    quartiers on 2 cores).  Elsewhere, or when refused, nothing changes.
    """
    import threading

    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), PRINT_NICENESS))
    except (AttributeError, OSError):
        pass


class PdfPrinter:
    """Print HTML files to PDF in the background while the build goes on.

    One headless Chromium, driven by Playwright in a thread of its own, prints the documents
    in ``workers`` tabs: :meth:`submit` queues a document as soon as its notebook has written
    it, :meth:`wait` returns when every PDF is written and re-raises the first failure.  The
    browser starts once (about 0.5 s, during the first notebooks), which halves the printing
    time of the sample build compared with one browser per document.  The figures are inline SVG
    (:mod:`diagnostics.publish.svg`): a report with 18 figures costs Chromium about 0.6 s of
    processor to lay out for print and write the tagged PDF (2.2 s when plotly drew them in
    the page).  Without
    Playwright, or when it cannot start the browser, each document is printed by a Chromium
    subprocess of its own.  Either way the bytes go through :func:`finish_pdf`.

    Notes
    -----
    A page is printed after its ``load`` event, with the page size of the document's CSS
    (``@page { size: A4 }``).  The tabs emulate print media before they load a document, so
    that Chromium styles and lays it out for print once, not for the screen first: the same
    page content, 12–20 % less of Chromium's processor per document (a 30-quartier report
    0.69–0.79 s → 0.55–0.62 s, its synthesis 2.7 s → 2.2–2.4 s, median of 8, either order).
    """

    def __init__(self, workers: int = 2, timeout: float = 120):
        import queue
        import threading

        self.workers = max(1, workers)
        self.timeout = timeout
        self._jobs: queue.Queue = queue.Queue()
        self._futures: list[concurrent.futures.Future] = []
        self._fallback = None
        self._thread = threading.Thread(target=self._serve, name="dls-pdf", daemon=True)
        self._thread.start()

    # -- the printing thread ------------------------------------------------------------
    def _serve(self) -> None:
        import asyncio

        _yield_processor()
        try:
            asyncio.run(self._main())
        except Exception:  # noqa: BLE001 - Playwright unusable here: one Chromium per document
            self._fallback = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers)
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                html, pdf, fut = job
                if not fut.done():
                    self._fallback.submit(self._fallback_print, html, pdf, fut)

    def _fallback_print(self, html, pdf, fut) -> None:
        try:
            _write_pdf(_print_with_subprocess(html, pdf, self.timeout), html, pdf)
            fut.set_result(pdf)
        except BaseException as exc:  # noqa: BLE001 - handed to wait()
            fut.set_exception(exc)

    async def _main(self) -> None:
        import asyncio

        from playwright.async_api import async_playwright

        loop = asyncio.get_running_loop()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=find_chromium(),
                                               args=[f for f in _BASE_FLAGS if f != "--headless"])
            try:
                # the tabs share one browser context: one window, not one per tab (each window
                # costs Chromium about 0.8 s of processor at start-up, taken from the kernel)
                context = await browser.new_context()
                tabs: asyncio.Queue = asyncio.Queue()
                for _ in range(self.workers):
                    tab = await context.new_page()
                    # the page is laid out for print from the start: loaded for the screen, it was
                    # styled and laid out for the screen, then again for print (the same PDF, a
                    # fifth more of Chromium's processor)
                    await tab.emulate_media(media="print")
                    tabs.put_nowait(tab)
                pending = set()
                while True:
                    job = await loop.run_in_executor(None, self._jobs.get)
                    if job is None:
                        break
                    pending.add(asyncio.ensure_future(self._print(tabs, *job)))
                if pending:
                    await asyncio.gather(*pending)
            finally:
                await browser.close()

    async def _print(self, tabs, html: Path, pdf: Path, fut) -> None:
        """Print ``html`` in a free tab, give the tab back, then finish and write the PDF.

        The tab is free again as soon as Chromium has printed: it prints the next document
        while :func:`finish_pdf` post-processes this one in a thread.
        """
        import asyncio

        tab = await tabs.get()
        try:
            if not html.is_file():
                raise DLSError(f"Le fichier HTML « {html} » est introuvable : impossible de produire le PDF.")
            ms = self.timeout * 1000
            await tab.goto(html.resolve().as_uri(), wait_until="load", timeout=ms)
            data = await tab.pdf(print_background=True, prefer_css_page_size=True, display_header_footer=False,
                                  tagged=True, outline=True)
        except Exception as exc:  # noqa: BLE001 - handed to wait(), in French
            fut.set_exception(_printing_error(exc, html))
            return
        finally:
            tabs.put_nowait(tab)
        try:
            await asyncio.get_running_loop().run_in_executor(None, _write_pdf, data, html, pdf)
            fut.set_result(pdf)
        except Exception as exc:  # noqa: BLE001 - handed to wait(), in French
            fut.set_exception(_printing_error(exc, html))

    # -- the caller's side ---------------------------------------------------------------
    def submit(self, html: str | Path, pdf: str | Path) -> None:
        """Queue ``html`` for printing to ``pdf``."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._futures.append(fut)
        self._jobs.put((Path(html), Path(pdf), fut))

    def wait(self) -> None:
        """Block until every queued PDF is written; raise the first error."""
        for f in self._futures:
            f.result(timeout=self.timeout * max(1, len(self._futures)))

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=self.timeout)
        if self._fallback is not None:
            self._fallback.shutdown(wait=True, cancel_futures=True)
        for f in self._futures:
            if not f.done():
                f.set_exception(DLSError("Impression PDF interrompue."))


def _printing_error(exc: Exception, html: Path) -> DLSError:
    """A failure to print ``html``, said in French (its cause kept)."""
    if isinstance(exc, DLSError):
        return exc
    err = DLSError(f"Chromium n'a pas pu imprimer « {html.name} » en PDF : {exc}.")
    err.__cause__ = exc
    return err


def print_pdfs(pairs: list[tuple[Path, Path]], workers: int = 2, timeout: float = 120) -> None:
    """Print several HTML files to PDF, ``workers`` at a time (:class:`PdfPrinter`)."""
    printer = PdfPrinter(workers, timeout=timeout)
    try:
        for h, p in pairs:
            printer.submit(h, p)
        printer.wait()
    finally:
        printer.close()
