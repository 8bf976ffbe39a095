"""The ``dls`` command line: a thin caller of the library, in French.

Each command imports what it needs inside its body so that ``dls --help`` stays fast.
Errors meant for the user (:class:`diagnostics.errors.DLSError`) are printed as one French
sentence with the right exit code, never as a traceback.
"""
from __future__ import annotations

import os
import sys

import click

from .errors import DLSError

CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=100)

# click marks its own messages for gettext but ships no French catalogue: translate the
# ones an analyst meets (help, usage and argument errors).
_CLICK_FR = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing command.": "Commande manquante.",
    "No such command {name!r}.": "Commande inconnue {name!r}.",
    "No such option {name!r}.": "Option inconnue {name!r}.",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} attend {nargs} valeurs.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un nombre valide ({number_type}).",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "file": "Fichier", "directory": "Dossier", "path": "Chemin",
    "default: {default}": "par défaut : {default}",
    "Aborted!": "Interrompu.",
    "required": "obligatoire",
    "integer": "entier", "text": "texte", "float": "décimal", "boolean": "booléen",
    "integer range": "entier", "float range": "décimal", "choice": "choix",
}


def _fr(message: str) -> str:
    return _CLICK_FR.get(message, message)


for _module in ("core", "decorators", "exceptions", "formatting", "parser", "types"):
    _mod = getattr(click, _module, None)
    if _mod is not None and hasattr(_mod, "_"):
        _mod._ = _fr


class _Group(click.Group):
    """A click group whose usage line and metavars read in French."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("subcommand_metavar", "COMMANDE [ARGUMENTS]…")
        super().__init__(*args, **kwargs)

    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", _Group)
        return super().group(*args, **kwargs)


class _Command(click.Command):
    """A click command whose metavars read in French (« TEXTE », « ENTIER »)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
                param.metavar = _METAVARS.get(type(param.type).__name__)


#: French metavars for click's parameter types (the others, such as ``Path``, are translated
#: through their name).
_METAVARS = {"StringParamType": "TEXTE", "IntParamType": "ENTIER", "IntRange": "ENTIER",
             "FloatParamType": "NOMBRE", "FloatRange": "NOMBRE"}


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="dls-diagnostics", message="dls %(version)s")
def cli():
    """Boîte à outils des diagnostics locaux de santé (DLS).

    Enchaînement : lire → valider → pondérer → estimer → comparer → protéger → publier.
    """


@cli.group()
def questionnaire():
    """Exporter le questionnaire (formulaire en ligne, version papier, classeur de saisie)."""


_OUT = click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                    help="Fichier à produire.")
_QN_HELP = ("Fichier YAML du questionnaire (par défaut : celui du projet, projet.yaml du dossier courant ; "
            "hors d'un projet, le questionnaire habitants fourni).")
_QN = click.option("--questionnaire", "questionnaire_path", type=click.Path(exists=True, dir_okay=False),
                   default=None, help=_QN_HELP)


def _load_qn(path, data_file=None):
    """The questionnaire named by ``--questionnaire``, else the project's (the ``projet.yaml`` of
    ``data_file``'s folders, else of the current folder), else the toolkit's; says which."""
    from .config.project import project_of, project_questionnaire
    from .config.questionnaire import load_questionnaire

    if path:
        return load_questionnaire(path)
    found = project_of(data_file)
    if found is None:
        return load_questionnaire()
    qn = load_questionnaire(project_questionnaire(found))
    click.echo(f"Questionnaire du projet « {found} » : « {qn.id} » (version {qn.version}).", err=True)
    return qn


@questionnaire.command("xlsform")
@_OUT
@_QN
def questionnaire_xlsform(out, questionnaire_path):
    """Produire le formulaire en ligne au format XLSForm (.xlsx) pour KoboToolbox ou ODK."""
    from .collect.xlsform import write_xlsform
    qn = _load_qn(questionnaire_path)
    path = write_xlsform(qn, out)
    click.echo(f"Formulaire XLSForm écrit : {path} ({len(qn.asked)} questions). "
               "Importez-le dans KoboToolbox (Projets → Nouveau → Importer un XLSForm).")


@questionnaire.command("papier")
@_OUT
@_QN
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
              help="Conserver aussi la page HTML intermédiaire à cet emplacement.")
def questionnaire_papier(out, questionnaire_path, html_out):
    """Produire le questionnaire papier à imprimer (PDF A4, nécessite Chromium)."""
    from .collect.paper_form import write_paper_form
    qn = _load_qn(questionnaire_path)
    path = write_paper_form(qn, out, html_path=html_out)
    click.echo(f"Questionnaire papier écrit : {path} ({len(qn.asked)} questions).")


@questionnaire.command("saisie")
@_OUT
@_QN
@click.option("--lignes", "max_rows", type=click.IntRange(1, 100000), default=2000, show_default=True,
              help="Nombre de lignes de saisie couvertes par les contrôles.")
def questionnaire_saisie(out, questionnaire_path, max_rows):
    """Produire le classeur Excel de saisie des questionnaires papier (contrôles, dictionnaire des codes)."""
    from .collect.entry_workbook import write_entry_workbook
    qn = _load_qn(questionnaire_path)
    path = write_entry_workbook(qn, out, max_rows=max_rows)
    click.echo(f"Classeur de saisie écrit : {path} ({len(qn.columns)} colonnes de réponses, "
               f"{max_rows} lignes contrôlées).")


def output_error(exc: OSError) -> str:
    """One French sentence for a file or folder the system refuses (parent is a file, no right…)."""
    import errno
    from pathlib import Path

    target = Path(exc.filename) if exc.filename else None
    folder = target.parent if target is not None else None
    if target is not None:  # the first ancestor that exists tells why
        probe = target
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if probe.is_file() and (probe != target or exc.errno in (errno.EEXIST, errno.ENOTDIR)):
            return (f"impossible d'écrire « {target} » : « {probe} » est un fichier, pas un dossier ; "
                    "choisissez un autre emplacement de sortie.")
        folder = probe if probe.is_dir() else folder
    from .io.files import WRITE_REFUSALS

    why = WRITE_REFUSALS.get(exc.errno, exc.strerror or type(exc).__name__)
    return f"impossible d'écrire dans le dossier « {folder} » : {why}."


def _interrupted():
    click.echo("\nInterrompu (Ctrl-C) : rien n'a été remplacé, les sorties précédentes sont conservées.",
               err=True)
    sys.exit(130)


def main(argv=None):
    """Entry point of the ``dls`` console script."""
    try:
        code = cli.main(args=argv, prog_name="dls", standalone_mode=False)
        sys.exit(code or 0)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return _interrupted()
        click.echo(_fr("Aborted!"), err=True)
        sys.exit(1)
    except click.exceptions.ClickException as exc:  # usage errors, as click shows them
        exc.show()
        sys.exit(exc.exit_code)
    except DLSError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # Ctrl-C: the commands leave previous outputs as they were
        _interrupted()
    except OSError as exc:  # an output the system refuses: say which folder and why
        click.echo(f"Erreur : {output_error(exc)}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug of ours: say so in French, details on demand
        if os.environ.get("DLS_DEBUG"):
            raise
        click.echo(f"Erreur inattendue ({type(exc).__name__} : {exc}). Relancez avec DLS_DEBUG=1 "
                   "pour le détail technique et signalez-la aux mainteneurs.", err=True)
        sys.exit(3)


# Commands below: each imports its module inside the function body.


def default_check_report(checked) -> "Path":
    """Where ``dls check`` writes its report by default: beside the checked file, or in
    ``controles/`` of the current folder when that folder cannot be written (e.g. the example
    data inside an installed package).  Never in a deliverables folder."""
    from pathlib import Path

    checked = Path(checked).resolve()
    name = f"{checked.stem}_controle.xlsx"
    if os.access(checked.parent, os.W_OK) and "site-packages" not in checked.parts:
        return checked.parent / name
    return Path.cwd() / "controles" / name


@cli.command("init")
@click.argument("dossier", type=click.Path(file_okay=False), metavar="DOSSIER")
@click.option("--ville", default="Ma ville", show_default=True, help="Nom de la ville du diagnostic.")
@click.option("--exemple", is_flag=True,
              help="Copier aussi les réponses synthétiques de l'exemple dans data/raw/ "
                   "(le projet se construit aussitôt, sur des données fictives).")
def init_cmd(dossier, ville, exemple):
    """Créer le dossier d'un nouveau diagnostic (une ville) : projet.yaml, questionnaire et
    catalogue à adapter, modèles de données, carnets et LISEZMOI des étapes suivantes."""
    from .config.scaffold import init_project

    files = init_project(dossier, ville, exemple=exemple)
    click.echo(f"Projet créé dans « {dossier} » ({len(files)} fichiers). Étapes suivantes : "
               f"{os.path.join(dossier, 'LISEZMOI.md')}")
    click.echo(f"Construire les livrables : dls build --projet {os.path.join(dossier, 'projet.yaml')} "
               "--out livrables")


cli.add_command(init_cmd, "initialiser")


def _limit_options(command):
    """The readers' limits as options (« any limit the command line enforces, it can raise »)."""
    for option in reversed((
            click.option("--limite-lignes", "max_rows", type=click.IntRange(1), default=None,
                         help="Lignes de réponses acceptées par fichier (par défaut 2 000 000)."),
            click.option("--limite-cellules", "max_cells", type=click.IntRange(1), default=None,
                         help="Cellules (lignes × colonnes) acceptées par fichier, CSV comme classeur (par défaut "
                              "100 000 000 pour un CSV, 50 000 000 pour un classeur : moins de 2 Go de mémoire)."),
            click.option("--limite-taille", "max_mb", type=click.IntRange(1), default=None,
                         help="Taille acceptée d'un fichier, en Mo (décompressés pour un classeur ; par défaut 500).")),
    ):
        command = option(command)
    return command


@cli.command("check")
@click.argument("fichiers", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--questionnaire", "questionnaire_path", type=click.Path(dir_okay=False), default=None,
              help=_QN_HELP)
@click.option("--rapport", "rapport", type=click.Path(dir_okay=False), default=None,
              help="Rapport de contrôle à écrire (.xlsx ou .html ; par défaut "
                   "<fichier>_controle.xlsx à côté du fichier contrôlé).")
@click.option("--feuille", "sheet", default=None, help="Feuille du classeur Excel à lire (par défaut « Saisie »).")
@click.option("--inclure-rejetees", "include_rejected", is_flag=True, default=False,
              help="Garder les soumissions rejetées lors de la revue sur le serveur (ODK Central, KoboToolbox) ; "
                   "par défaut elles sont écartées et comptées.")
@_limit_options
@click.pass_context
def check(ctx, fichiers, questionnaire_path, rapport, sheet, include_rejected, max_rows, max_cells,
          max_mb):
    """Contrôler un ou plusieurs fichiers de réponses (CSV, Excel, SPSS, Stata, export KoboToolbox).

    Code de sortie : 0 = toutes les lignes acceptées, 1 = des lignes rejetées,
    2 = fichier illisible.
    """
    from pathlib import Path

    from .collect.review import counts as review_counts
    from .collect.review import summary_line as review_summary
    from .collect.validation import validate, write_report
    bar = None

    def progress(done, total, label):  # a bar on a terminal only (tqdm), for long checks
        nonlocal bar
        if bar is None:
            from tqdm import tqdm
            bar = tqdm(total=total, desc="Contrôle", unit="étape", leave=False, file=sys.stderr)
        bar.set_postfix_str(label[:40], refresh=False)
        bar.update(done - bar.n)

    try:
        # the project of the checked file (data/raw/ of a project made by dls init), else the
        # current folder's: its questionnaire, and its secret (validate finds it the same way)
        qn = _load_qn(questionnaire_path, data_file=fichiers[0])
        result = validate(list(fichiers), qn, sheet=sheet, include_rejected=include_rejected,
                          limits=_limits(max_rows, max_cells, max_mb),
                          progress=progress if sys.stderr.isatty() else None)
    except DLSError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        ctx.exit(exc.exit_code)
    finally:
        if bar is not None:
            bar.close()
    click.echo(result.summary())
    reviewed = review_summary(review_counts(result.issues))
    if reviewed:
        click.echo(reviewed)
    out = Path(rapport) if rapport else default_check_report(fichiers[0])
    write_report(result, out)
    click.echo(f"Rapport de contrôle écrit : {out}")
    ctx.exit(1 if result.n_rejected else 0)


def _limits(max_rows, max_cells, max_mb):
    """The readers' limits, raised (or lowered) by the options of :func:`_limit_options`."""
    import dataclasses

    from .io.formats import DEFAULT_LIMITS

    given = dict(max_rows=max_rows, max_cells=max_cells, max_workbook_cells=max_cells,
                 max_bytes=max_mb and max_mb * 1024 ** 2)
    return dataclasses.replace(DEFAULT_LIMITS, **{k: v for k, v in given.items() if v})


@cli.command("indicators")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              help="Dossier où écrire indicateurs.csv et indicateurs.xlsx.")
@click.option("--reponses", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Fichier des réponses (par défaut : celui du projet, donnees.reponses).")
@click.option("--marges", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Marges de population quartier;groupe_age;sexe;effectif (par défaut : celles du projet).")
@click.option("--extraits", type=click.Path(exists=True, dir_okay=False), multiple=True,
              help="Fichier(s) d'extraits ORS / Assurance Maladie (par défaut : ceux du projet).")
@click.option("--projet", "projet", type=click.Path(exists=True), metavar="PROJET", default=None,
              help="Configuration du projet, projet.yaml ou son dossier (par défaut : projet.yaml du dossier "
                   "courant s'il existe, sinon l'exemple de Chambéry).")
@click.option("--catalogue", "catalogue_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Catalogue des indicateurs (par défaut : celui du projet, sinon le catalogue fourni).")
@click.option("--format", "format_", type=click.Choice(["analyste", "machine"]), default="analyste",
              show_default=True,
              help="analyste : indicateurs.xlsx et indicateurs.csv en français (pourcentages, oui/non) ; "
                   "machine : indicateurs_machine.csv, colonnes du tableau d'indicateurs (anglais, "
                   "proportions 0-1, point décimal) pour d'autres programmes.")
@_limit_options
def indicators(out, reponses, marges, extraits, projet, catalogue_path, format_, max_rows, max_cells, max_mb):
    """Calculer le tableau des indicateurs (quartier × indicateur), protégé par le secret statistique.

    Lit les fichiers du projet (réponses, marges, extraits, références, catalogue et questionnaire
    nommés dans projet.yaml), sauf ceux donnés en option. Code de sortie non nul si aucun
    indicateur n'a pu être calculé.
    """
    from .collect.references import refuse_illustrative
    from .config.catalogue import load_project_catalogue, unused_questions
    from .config.project import DEFAULT_PROJECT, find_project, load_project
    from .engine.indicators import compute_from_files, write_indicators
    from .publish.indicator_table import write_machine_table

    source = find_project(projet)
    if source == DEFAULT_PROJECT:
        click.echo("Projet : l'exemple de Chambéry (données synthétiques) ; --projet pour le vôtre.")
    proj = load_project(source)
    cat = load_project_catalogue(proj, catalogue_path)
    refuse_illustrative(proj, cat)  # real data: no illustrative comparator, as dls build
    res = compute_from_files(reponses, marges, list(extraits) or None, project=proj, catalogue=cat,
                             limits=_limits(max_rows, max_cells, max_mb))
    _refuse_empty(res)
    new = unused_questions(cat)
    if new:
        click.echo(f"Note : {len(new)} question(s) du questionnaire n'alimentent aucun indicateur du catalogue "
                   f"({', '.join(new)}) ; ajoutez une entrée au catalogue pour les publier.")
    t = res.table
    if format_ == "machine":
        paths = {"csv": write_machine_table(t, out)}
    else:
        from .publish.sources import load_sources

        paths = write_indicators(t, out, catalogue=cat, references=proj.references,
                                 sources=load_sources(proj, cat))
    n_ind = t["indicator_id"].nunique()
    n_calc = int((t["status"] == "calculé").sum())
    click.echo(f"{res.n_respondents} répondants lus ; {n_ind} indicateurs, {len(t)} lignes "
               f"(quartier × indicateur) dont {n_calc} calculées, {int(t['suppressed'].sum())} masquées "
               f"par le secret statistique (seuil {t.attrs.get('seuil', 0):g}) et "
               f"{int((t['status'] != 'calculé').sum())} non calculables.")
    if res.counts.get("hors_quartiers") or res.counts.get("sans_age_sexe"):
        click.echo(f"Hors champ : {res.counts.get('hors_quartiers', 0)} répondant(s) d'un autre quartier ; "
                   f"{res.counts.get('sans_age_sexe', 0)} sans âge ou sexe connu (non pondérables, écartés).")
    click.echo("Écrit : " + " et ".join(str(p) for p in paths.values()))


def _refuse_empty(res) -> None:
    """A run that computed no indicator is an error (:func:`diagnostics.engine.indicators.refuse_empty`)."""
    from .engine.indicators import refuse_empty

    refuse_empty(res.table, read=f"{res.n_respondents} répondants lus dans « {res.files['reponses']} »",
                 margins=str(res.files["marges"]), file=res.files["reponses"])


@cli.command("extraits")
@click.argument("fichiers", nargs=-1, required=True, metavar="FICHIER...")
@click.option("--rejets", "rejets", type=click.Path(dir_okay=False), default=None,
              help="Écrire les lignes rejetées (fichier, ligne, colonne, valeur, motif) dans ce CSV.")
@click.option("--feuille", "sheet", default=0, help="Feuille du classeur Excel à lire (par défaut la première).")
def extraits(fichiers, rejets, sheet):
    """Lire et vérifier des extractions ORS / Assurance Maladie (CSV « ; » ou XLSX)."""
    from .collect.extracts import read_extracts

    res = read_extracts(fichiers, sheet=sheet)
    d = res.data
    click.echo(f"{res.n_read} lignes lues : {res.n_accepted} acceptées, {res.n_rejected} rejetées ; "
               f"{int(d['masked'].sum())} valeurs masquées (secret statistique), "
               f"{d['indicator_id'].nunique()} indicateurs, {d['territory_code'].nunique()} territoires.")
    for rec in res.rejected.head(20).itertuples(index=False):
        click.echo(f"  « {rec.fichier} », ligne {rec.ligne}, colonne « {rec.colonne} », valeur « {rec.valeur} » : {rec.motif}.")
    if rejets:
        from .io.spreadsheet import write_csv
        write_csv(res.rejected, rejets)
        click.echo(f"Lignes rejetées écrites dans « {rejets} ».")
    if res.n_rejected:
        sys.exit(1)


@cli.command("extraits-individuels")
@click.argument("donnees", metavar="DOSSIER")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="extraits_individuels.csv", show_default=True,
              help="Tableau d'extraits produit (CSV « ; », lisible par « dls extraits » et « dls build »).")
@click.option("--definitions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Définitions des indicateurs (YAML ; par défaut celles de la boîte à outils).")
@click.option("--moteur", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="DuckDB sur cette machine, ou Spark (local ou grappe).")
@click.option("--master", default=None, help="URL du maître Spark : local[*] (par défaut), spark://hôte:7077, yarn…")
@click.option("--conf", "conf", multiple=True, metavar="CLE=VALEUR",
              help="Réglage Spark supplémentaire (répétable), ex. spark.executor.memory=8g.")
@click.option("--seuil", type=int, default=11, show_default=True, help="Secret statistique : effectifs masqués sous ce seuil.")
@click.option("--memoire", default=None, metavar="TAILLE",
              help="DuckDB : mémoire que le calcul ne dépasse pas (ex. 2GB ; au-delà, il passe par le disque).")
@click.option("--projet", type=click.Path(exists=True), metavar="PROJET", default=None,
              help="projet.yaml (ou son dossier) : les QPV prennent le libellé de ses quartiers.")
@click.option("--generer", type=int, default=None, metavar="N",
              help="Générer d'abord N bénéficiaires synthétiques dans DOSSIER (démonstration).")
@click.option("--exemple", is_flag=True, help="Avec --generer : la géographie du projet d'exemple (Chambéry).")
def extraits_individuels(donnees, out, definitions, moteur, master, conf, seuil, memoire, projet, generer, exemple):
    """Calculer les indicateurs d'extraits à partir de données individuelles (Parquet).

    DOSSIER : dossier ou URI (file://, hdfs://, s3://, abfs://) sous lequel chaque table est lue
    (« beneficiaires.parquet », fichier ou dossier partitionné) ; les définitions peuvent aussi
    nommer des tables du métastore Spark.
    """
    from .stats.records import (connect, count_records, load_record_catalogue, records_extract,
                                 write_records_extract)

    if generer:
        from .collect.records_synth import example_territories, generate_records
        rp = generate_records(donnees, generer, territories=example_territories() if exemple else None)
        click.echo(f"Données synthétiques : {rp.n_beneficiaires} bénéficiaires, {rp.n_soins} lignes de soins, "
                   f"{rp.n_ald} ALD dans « {donnees} ».")
    spark_conf = {}
    for item in conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DLSError(f"Réglage Spark « {item} » incompris : la forme « clé=valeur » est attendue.", value=item)
        spark_conf[key.strip()] = value.strip()
    names = {}
    if exemple:
        from .collect.records_synth import EXAMPLE_QPV_NAMES
        names = dict(EXAMPLE_QPV_NAMES)
    if projet:
        from .config.project import find_project, load_project
        names.update({q.qpv: q.libelle for q in load_project(find_project(projet)).quartiers if q.qpv})
    cat = load_record_catalogue(definitions)
    con = connect(moteur, master=master, spark_conf=spark_conf, memory=memoire)
    counts = count_records(con, donnees, cat)
    if counts.table.empty or not counts.table.filter(like="den_").to_numpy().any():
        raise DLSError(f"Aucun bénéficiaire vivant et résident en {cat.year} dans « {donnees} » : rien n'est "
                       "calculé (vérifiez l'année des définitions et les colonnes de territoire).", file=str(donnees))
    table = records_extract(counts, cat, threshold=seuil, names=names, source=f"données individuelles ({moteur})")
    write_records_extract(table, out)
    n_terr = len(table[["niveau", "code_territoire"]].drop_duplicates())
    masked = table["masque"]
    click.echo(f"{len(table)} lignes ({len(cat.indicators)} indicateurs, {n_terr} territoires), "
               f"{int((masked != '').sum())} masquées ({int((masked == 's').sum())} par secret secondaire) "
               f"sous {seuil} ; écrit : {out}")


@cli.command("build")
@click.option("--out", "out", type=click.Path(file_okay=False), default="livrables", show_default=True,
              help="Dossier des livrables ; remplacé d'un bloc à chaque construction réussie.")
@click.option("--projet", "projet", type=click.Path(exists=True), metavar="PROJET", default=None,
              help="Configuration du projet, projet.yaml ou son dossier (quartiers, fichiers de données, références, "
                   "seuils, titre, logo) ; par défaut projet.yaml du dossier courant s'il existe, sinon "
                   "l'exemple de Chambéry sur données synthétiques.")
@click.option("--sans-pdf", "no_pdf", is_flag=True, help="Ne produire que les rapports HTML (sans Chromium).")
def build_cmd(out, projet, no_pdf):
    """Construire les livrables : un rapport HTML + PDF par quartier et la synthèse.

    Exécute les carnets d'analyse (vérification, pondération, indicateurs, livrables) sans
    ouvrir Jupyter, puis imprime les rapports en PDF avec Chromium. Les fichiers sont d'abord
    construits à côté du dossier de sortie, qui n'est remplacé qu'en cas de succès : une
    construction qui échoue ne laisse jamais de rapport à moitié écrit.
    """
    from .engine.build import build
    from .config.project import DEFAULT_PROJECT, find_project

    projet = find_project(projet)
    if projet == DEFAULT_PROJECT:
        click.echo("Projet : l'exemple de Chambéry (données synthétiques) ; --projet pour le vôtre.")
    res = build(out, projet, pdf=not no_pdf, progress=click.echo)
    for f in res.files:
        click.echo(f"  {f}")


def _fail(ctx, exc: DLSError):
    """Print a user's error as one French sentence and leave with its exit code."""
    click.echo(f"Erreur : {exc}", err=True)
    ctx.exit(exc.exit_code)


@cli.command("recuperer")
@click.argument("serveur_type", type=click.Choice(["kobo", "odk"]), metavar="kobo|odk")
@click.option("--serveur", "url", required=True,
              help="Adresse du serveur (ex. https://kf.kobotoolbox.org ou https://odk.ma-ville.fr).")
@click.option("--formulaire", "form", required=True,
              help="Identifiant du formulaire : uid de l'« asset » KoboToolbox ou xmlFormId d'ODK Central.")
@click.option("--projet-odk", "project", default=None, help="Numéro du projet ODK Central.")
@click.option("--jeton-fichier", "token_file", type=click.Path(dir_okay=False), default=None,
              help="Fichier contenant le jeton (hors du dépôt git) ; par défaut la variable "
                   "DLS_KOBO_TOKEN ou DLS_ODK_TOKEN.")
@click.option("--sortie", "out", type=click.Path(file_okay=False), default="data/raw", show_default=True,
              help="Dossier des données brutes (jamais dans git).")
@click.option("--essais", "retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Nouvelles tentatives quand le serveur limite les requêtes (429), est en erreur (5xx) "
                   "ou coupe une réponse en cours de route.")
@click.pass_context
def recuperer(ctx, serveur_type, url, form, project, token_file, out, retries):
    """Récupérer les soumissions d'un formulaire en ligne (KoboToolbox ou ODK Central).

    Chaque récupération relit toutes les soumissions du serveur et met à jour le dossier :
    nouvelles, modifiées (réponse corrigée, statut de revue changé), supprimées ; le dossier
    est alors identique à une première récupération. Les soumissions rejetées sur le serveur
    sont gardées dans les fichiers et écartées de l'analyse par dls check et dls suivi. Un
    manifeste (serveur, formulaire, versions, heure, nombres) est tenu à jour. Le jeton n'est
    jamais affiché ni écrit, et n'est envoyé qu'à l'adresse donnée.
    """
    import time

    from .collect.pull import pull, read_token
    from .collect.pull_http import wait_message

    def wait(seconds, status):
        click.echo(wait_message(seconds, status), err=True)
        time.sleep(seconds)

    try:
        token = read_token(serveur_type, token_file)
        res = pull(serveur_type, url, form, out, project=project, token=token, on_wait=wait, max_retries=retries)
    except DLSError as exc:
        _fail(ctx, exc)
    click.echo(res.summary())


@cli.command("suivi")
@click.argument("fichiers", nargs=-1, required=False, metavar="[FICHIER...]")
@click.option("--projet", "projet", type=click.Path(exists=True), metavar="PROJET", default=None,
              help="Configuration du projet, projet.yaml ou son dossier (quartiers, marges, cibles du suivi) ; "
                   "par défaut projet.yaml du dossier courant, sinon l'exemple de Chambéry.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="suivi_collecte.html", show_default=True,
              help="Page HTML du suivi à produire.")
@click.option("--date", "today", default=None, help="Date du point (AAAA-MM-JJ) ; par défaut la dernière réponse.")
@click.option("--inclure-rejetees", "include_rejected", is_flag=True, default=False,
              help="Compter les soumissions rejetées lors de la revue sur le serveur ; par défaut elles sont "
                   "écartées et comptées à part.")
@click.pass_context
def suivi(ctx, fichiers, projet, out, today, include_rejected):
    """Suivre la collecte : retours par quartier et par semaine, canaux, quotas, précision.

    Lit un ou plusieurs fichiers de réponses (exports KoboToolbox / ODK, classeur de saisie),
    les fusionne, signale les doublons et écrit une page HTML d'une page (effectifs seulement).
    """
    from .config.project import find_project, load_project
    from .engine.fieldwork import monitor
    from .publish.monitor import summary_text, write_monitor_page

    try:
        project = load_project(find_project(projet))
        files = list(fichiers) or [project.donnees["reponses"]]
        res = monitor(files, project, today=today, include_rejected=include_rejected)
        path = write_monitor_page(res, out)
    except DLSError as exc:
        _fail(ctx, exc)
    click.echo(summary_text(res))
    click.echo(f"Page du suivi écrite : {path}")


cli.add_command(suivi, "monitor")
