"""Free text before publication: telephone numbers, e-mail addresses and person names scrubbed."""
from __future__ import annotations

import math
import re
import unicodedata

__all__ = ["scrub_text", "FIRST_NAMES", "PHONE_TOKEN", "EMAIL_TOKEN", "NAME_TOKEN"]


# =========================================================================== free text
#: Common French first names (INSEE frequent names), used to spot « Prénom Nom ».
FIRST_NAMES = frozenset("""
Adam Adèle Agnès Alain Albert Alexandre Alexis Alice Aline Amandine Amélie Anaïs André Andrée Anne
Annie Antoine Arnaud Arthur Aurélie Baptiste Benjamin Benoît Bernadette Bernard Brigitte Bruno
Camille Caroline Catherine Cécile Céline Chantal Charles Charlotte Chloé Christian Christiane
Christine Christophe Claude Claudine Clément Colette Corinne Cyril Damien Daniel Danielle David
Delphine Denis Denise Didier Dominique Élise Élodie Emma Emmanuel Éric Estelle Étienne Fabien
Fabrice Fanny Fatima Florence Florian Francis Françoise François Frédéric Gabriel Geneviève
Georges Gérard Germaine Gilbert Gilles Ginette Guillaume Guy Hélène Henri Hugo Isabelle Jacqueline
Jacques Jean Jeanne Jérémy Jérôme Joël Josette Joseph Julie Julien Juliette Karim Karine Kevin
Laetitia Laura Laurence Laurent Léa Léo Léon Liliane Louis Louise Luc Lucas Lucie Lucien Madeleine
Malika Manon Marc Marcel Marguerite Maria Marie Marine Martine Mathieu Mathilde Maurice Michel
Michèle Mohamed Monique Muriel Mylène Nadia Nadine Nathalie Nicolas Nicole Noël Odette Olivier
Pascal Pascale Patrice Patricia Patrick Paul Paulette Philippe Pierre Quentin Raymond Rémi Renée
René Richard Robert Roger Romain Sabine Sandrine Sarah Serge Simone Sophie Stéphane Stéphanie
Suzanne Sylvain Sylvie Thérèse Thierry Thomas Valérie Véronique Vincent Virginie Yannick Yasmine
Yves Yvette Yvonne Zoé
""".split())

_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ"
_LOWER = "a-zàâäçéèêëîïôöùûüÿœæ"
_NAME_WORD = rf"(?:[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)*|[{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})*)"
_CIVILITY = r"(?:M\.|MM\.|Mr\.?|Mme\.?|Mmes|Mlle\.?|Madame|Monsieur|Mademoiselle|Dr\.?|Docteure?|Pr\.?|Professeure?|Maître|Me\.?)"
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s.\-]?\d{2}){4}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_AFTER_CIVILITY = re.compile(rf"\b({_CIVILITY})(\s+)(?:{_NAME_WORD})(?:\s+{_NAME_WORD}){{0,2}}")
_FIRST_LAST = re.compile(
    rf"\b(?:{'|'.join(sorted(map(re.escape, FIRST_NAMES), key=len, reverse=True))})"
    rf"(?:-[{_UPPER}][{_LOWER}]+)?\s+{_NAME_WORD}(?:\s+{_NAME_WORD})?")

PHONE_TOKEN = "[téléphone]"
EMAIL_TOKEN = "[courriel]"
NAME_TOKEN = "[nom]"


def scrub_text(text, names=()) -> str:
    """Replace telephone numbers, e-mail addresses and person names in free text.

    Parameters
    ----------
    text : str
        Interview notes, an open answer…  ``None`` or NaN is returned unchanged.
    names : iterable of str
        Names known to appear (partners, residents); matched as whole words, case and accents
        ignored.

    Returns
    -------
    str
        The text with « [téléphone] », « [courriel] » and « [nom] » in place.

    Notes
    -----
    Telephone numbers: French numbers ``0X XX XX XX XX`` with spaces, dots, dashes or nothing,
    and ``+33``/``0033`` forms.  Names: the supplied ``names``; one to three capitalised words
    after a civility (M., Mme, Dr, Docteur, Pr…), the civility being kept; a common French first
    name (:data:`FIRST_NAMES`) followed by a capitalised surname.  A first name alone is left
    (too many homonyms: « Pierre », « Claude », « Marine »); add it to ``names`` if needed.

    Examples
    --------
    >>> scrub_text("Appeler Mme Dupont au 06 12 34 56 78 ou j.dupont@example.fr")
    'Appeler Mme [nom] au [téléphone] ou [courriel]'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return text
    s = _EMAIL.sub(EMAIL_TOKEN, str(text))
    s = _PHONE.sub(PHONE_TOKEN, s)
    for name in sorted({str(n).strip() for n in names if str(n).strip()}, key=len, reverse=True):
        s = _accent_insensitive(name).sub(NAME_TOKEN, s)
    s = _AFTER_CIVILITY.sub(lambda m: f"{m.group(1)}{m.group(2)}{NAME_TOKEN}", s)
    s = _FIRST_LAST.sub(NAME_TOKEN, s)
    s = re.sub(rf"{re.escape(NAME_TOKEN)}(?:\s+{re.escape(NAME_TOKEN)})+", NAME_TOKEN, s)
    return s


_EQUIV = {"a": "aàâä", "c": "cç", "e": "eéèêë", "i": "iîï", "o": "oôö", "u": "uùûü", "y": "yÿ"}


def _accent_insensitive(name: str) -> re.Pattern:
    parts = []
    for ch in unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode():
        low = ch.lower()
        if low in _EQUIV:
            chars = _EQUIV[low] + _EQUIV[low].upper()
            parts.append(f"[{chars}]")
        elif ch.isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
    return re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)", re.IGNORECASE)
