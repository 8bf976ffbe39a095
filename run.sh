#!/usr/bin/env bash
# Point d'entrée unique : installe ce qu'il faut puis construit les livrables ou lance les tests.
#   bash run.sh build   → livrables des trois quartiers (données d'exemple synthétiques) dans livrables/
#   bash run.sh test    → la suite de tests
#   bash run.sh carnets → JupyterLab sur les carnets (dans l'ordre 01 → 05)
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv

say() { printf '\n== %s\n' "$*"; }

setup_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "Création de l'environnement Python ($VENV)"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    say "Installation des dépendances Python"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[dev,carnets,spark]'
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
    touch "$stamp"
  fi
}

find_chromium() {
  for c in "${DLS_CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
  done
  return 1
}

setup_system() {
  # Chromium rend les rapports en PDF et sert au test navigateur ; poppler-utils lit les PDF.
  if ! find_chromium >/dev/null || ! command -v pdftotext >/dev/null; then
    if command -v apt-get >/dev/null; then
      local SUDO=""
      [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      say "Installation de Chromium et poppler-utils (apt-get)"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium poppler-utils fonts-dejavu-core >/dev/null
    else
      echo "Chromium est introuvable : installez Chromium ou Google Chrome, ou indiquez son chemin dans DLS_CHROMIUM." >&2
      exit 2
    fi
  fi
}

setup_java() {
  # Java 17 fait tourner Spark (tests du moteur Spark de « dls extraits-individuels »).
  # Sans apt-get ni Java, les tests Spark sont sautés avec la raison affichée.
  if ! command -v java >/dev/null && command -v apt-get >/dev/null; then
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "Installation de Java 17 pour Spark (apt-get)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
}

AXE_VERSION=4.14.1
setup_axe() {
  # axe-core (registre npm) : le test d'accessibilité (WCAG 2.1 AA) le lance dans Chromium.
  # Installé dans tests/.node/ (ignoré par git) ; sans npm ni apt-get, ce test est sauté avec sa raison.
  local dir=tests/.node
  if grep -qs "\"version\": \"$AXE_VERSION\"" "$dir/node_modules/axe-core/package.json"; then return 0; fi
  if ! command -v npm >/dev/null && command -v apt-get >/dev/null; then
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "Installation de npm (apt-get) pour axe-core"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
  fi
  if command -v npm >/dev/null; then
    say "Installation d'axe-core $AXE_VERSION (npm) dans $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "axe-core@$AXE_VERSION" >/dev/null
  fi
}

case "${1:-}" in
  build)
    shift
    setup_system
    setup_python
    say "Construction des livrables"
    exec "$VENV/bin/dls" build --out livrables "$@"
    ;;
  test)
    shift
    setup_system
    setup_java
    setup_axe
    setup_python
    say "Tests"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  carnets)
    shift
    setup_python
    say "JupyterLab (carnets d'analyse)"
    exec "$VENV/bin/jupyter" lab --notebook-dir=notebooks "$@"
    ;;
  *)
    echo "Usage : bash run.sh build | bash run.sh test | bash run.sh carnets" >&2
    exit 2
    ;;
esac
