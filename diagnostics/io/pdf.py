"""Print HTML files to PDF (and PNG) with headless Chromium.

Used by the paper form (:mod:`diagnostics.collect.paper_form`) and the reports.  Chromium is run as a
short-lived subprocess with a throw-away profile and no network-facing features; the output is
written to a temporary file next to the target and renamed atomically, so a reader never sees a
half-written PDF.

The browser is looked up in this order: the ``DLS_CHROMIUM`` environment variable, then
``chromium``, ``chromium-browser``, ``google-chrome`` (and ``google-chrome-stable``) on the
``PATH``, then the usual install locations of Chrome and Edge on Linux, macOS and Windows.
"""
from __future__ import annotations

import os
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
    """Print an HTML file to PDF with headless Chromium.

    Page size and margins come from the document's CSS ``@page`` rule (Chromium honours
    ``size: A4``); browser headers and footers (date, URL) are switched off.  The PDF is
    tagged (structure tree, Chromium's default) and has an outline (bookmarks) built from the
    document's headings.

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
    with atomic_path(pdf_path) as tmp:
        _run(["--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--generate-pdf-document-outline",
              f"--print-to-pdf={tmp}", html_path.as_uri()], tmp, timeout)
        with open(tmp, "rb") as fh:
            if fh.read(5) != b"%PDF-":
                raise DLSError(f"Chromium a produit un fichier qui n'est pas un PDF pour « {pdf_path.name} ».")
    return pdf_path


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
