"""Company-name normalisation and duplicate suggestions for the partnership map.

Links are typed by many people ("Plasturgie de l'Ain SAS", "PLASTURGIE DE L AIN", "Plasturgie
Ain"), so the map offers merge suggestions that a human confirms. A wrong merge hides a partner,
a missed one only leaves a duplicate: precision comes first. Hence words that many different
companies share (generic words, place names) never justify a match on their own, and every two
names in one suggestion must look alike, not just be linked through a third one.

Pure Python on purpose (no Flask, no database): the service feeds it `Name`s and shows `Group`s
(grouping.suggest compares a whole map).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

STOP_WORDS = frozenset("de du des d la le les l et en a au aux sur sous the of and".split())
LEGAL_FORMS = frozenset(
    "sa sas sasu sarl eurl eirl ei sci snc scop scic sca scs gie sem spl selarl selas "
    "ltd inc gmbh llc plc".split()
)
# "& Fils", "Frères", "& Cie", "& Associés" close a name like a legal form; elsewhere they are words.
FAMILY_SUFFIXES = frozenset("fils freres cie associes".split())
ABBREVIATIONS = {
    "ste": "societe", "cie": "compagnie", "ets": "etablissements", "st": "saint",
    "grp": "groupe", "assoc": "association", "asso": "association", "intl": "international",
    "sm": "supermarche", "hyper": "hypermarche",
}
GENERIC = frozenset(
    "groupe societe compagnie etablissements entreprise entreprises france international "
    "services service holding association cabinet atelier ateliers agence maison centre "
    "group company".split()
)
PLACES = frozenset(
    "ain rhone lyon lyonnais lyonnaise villeurbanne vaulx velin venissieux bron bourg bresse "
    "dombes dombe bugey revermont saone beaujolais isere savoie alpes auvergne grenoble "
    "villefranche oyonnax amberieu belley nantua gex trevoux miribel montluel meximieux lagnieu "
    "caluire rillieux meyzieu decines givors oullins ecully tassin vienne macon chambery annecy "
    "valence roanne nord sud est ouest centre france region regional metropole grand val pays "
    "haute haut plaine".split()
)
PLACE_PHRASES = (("saint", "etienne"), ("saint", "priest"), ("saint", "fons"), ("saint", "genis"))
GENERIC_WEIGHT, PLACE_WEIGHT, FUZZY = 0.2, 0.3, 0.9
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O",
                            "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss"})


@dataclass(frozen=True)
class Name:
    id: int
    name: str
    siren: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str  # same_siren | same_name | abbreviation | contained | spelling
    a: str = ""
    b: str = ""


@dataclass
class Group:
    ids: list[int]
    names: list[str]
    score: float
    reasons: list[Reason]


@dataclass(frozen=True)
class Context:
    """Words this particular map uses for too many different companies to tell them apart."""

    generic: frozenset[str] = frozenset()

    @classmethod
    def build(cls, names: Iterable[Name]) -> Context:
        return _context_of([_parse(n.name) for n in names])


@dataclass(frozen=True)
class _Word:
    token: str    # comparison form
    written: str  # as the user typed it, for reasons
    folded: str   # written, folded: differs from token when an abbreviation was expanded


@dataclass(frozen=True)
class _Parsed:
    words: tuple[_Word, ...]
    tokens: tuple[str, ...]
    key: str
    places: frozenset[int]  # indexes of place words, single or within a place phrase


@dataclass(frozen=True)
class _Match:
    a: tuple[int, ...]  # token indexes on each side
    b: tuple[int, ...]
    wa: float           # weight carried on each side
    wb: float
    factor: float       # 1 for the same word, FUZZY for an abbreviation or a misspelling
    distinctive: bool
    reason: Reason | None


# --- normalisation -----------------------------------------------------------------------------

def _fold(text: str) -> str:
    """Accents, ligatures and case must not make two spellings differ."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


# "A.D.A.P.E.I." or "I. M. E." is one word (ADAPEI, IME), not letters dropped as stop words.
INITIALISM = re.compile(r"\b(?:[^\W\d_]\.\s?){2,}")


def _raw_words(name: str) -> list[tuple[str, str]]:
    """(folded, written) ascii words; apostrophes, hyphens and punctuation separate words."""
    out = []
    name = INITIALISM.sub(lambda m: m.group().replace(".", "").replace(" ", "") + " ", name)
    for match in re.finditer(r"[^\W_]+|&", unicodedata.normalize("NFC", name)):
        written = match.group()
        for piece in re.findall(r"[a-z0-9]+", "et" if written == "&" else _fold(written)):
            out.append((piece, written))
    return out


def _is_suffix(raw: list[tuple[str, str]], i: int, dropped: set[int]) -> bool:
    """'Fils' in 'Martin & Fils' or 'Martin Fils SARL' is a suffix; in 'Fils Martin' a word."""
    if i == 0 or raw[i][0] not in FAMILY_SUFFIXES:
        return False
    rest = range(i + 1, len(raw))
    return raw[i - 1][0] == "et" or all(j in dropped or raw[j][0] in FAMILY_SUFFIXES for j in rest)


def _words(name: str) -> list[_Word]:
    raw = _raw_words(name)
    dropped = {i for i, (w, _) in enumerate(raw) if w in STOP_WORDS or w in LEGAL_FORMS}
    dropped |= {i for i in range(len(raw)) if _is_suffix(raw, i, dropped)}
    kept = [_Word(ABBREVIATIONS.get(w, w), written, w)
            for i, (w, written) in enumerate(raw) if i not in dropped]
    if kept:
        return kept
    # Everything was a stop word or a legal form ("SAS", "Les Fils"), or no latin letter at all:
    # the name itself is then the best key.
    fallback = raw or [(p, m) for m in re.findall(r"[^\W_]+", name) for p in [_fold(m)]]
    return [_Word(w, written, w) for w, written in fallback]


def normalise(name: str) -> str:
    """The comparison key: ascii words, no legal form or stop word, abbreviations expanded."""
    return " ".join(w.token for w in _words(name))


def siren_of(raw: str | None) -> str | None:
    """The 9-digit SIREN from a SIREN or SIRET as typed; None for anything else (or zeros)."""
    digits = re.sub(r"[\s.\-]", "", raw or "")
    if not re.fullmatch(r"\d{9}|\d{14}", digits, re.ASCII) or not digits.strip("0"):
        return None
    return digits[:9]


def _parse(name: str) -> _Parsed:
    words = tuple(_words(name)) if name.strip() else ()
    tokens = [w.token for w in words]
    places = {i for i, t in enumerate(tokens) if t in PLACES}
    for phrase in PLACE_PHRASES:
        for i in range(len(tokens) - len(phrase) + 1):
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                places.update(range(i, i + len(phrase)))
    return _Parsed(words, tuple(tokens), " ".join(tokens), frozenset(places))


def _plain(token: str) -> bool:
    """A word that may identify a company: neither generic nor a place."""
    return token not in GENERIC and token not in PLACES


def _context_of(parsed: Iterable[_Parsed]) -> Context:
    """A word is generic here when >= 3 (and >= 5 %) names use it with different other words.

    Counting distinct companions rather than distinct keys keeps one company's own spellings
    ("Bourg Graphic", "Imprimerie Bourg Graphic", "Bourg Graphic Imprimerie") from making its
    name look common.
    """
    keys = {p.key: p for p in parsed if p.words}
    companions: dict[str, set[frozenset[str]]] = defaultdict(set)
    for p in keys.values():
        plain = frozenset(t for t in p.tokens if _plain(t))
        for t in set(p.tokens):
            companions[t].add(plain - {t})
    floor = max(3.0, 0.05 * len(keys))
    return Context(frozenset(t for t, seen in companions.items() if len(seen) >= floor))


def _weights(p: _Parsed, ctx: Context | None) -> list[float]:
    out = []
    for i, t in enumerate(p.tokens):
        w = GENERIC_WEIGHT if t in GENERIC else PLACE_WEIGHT if i in p.places else 1.0
        out.append(min(w, GENERIC_WEIGHT) if ctx and t in ctx.generic else w)
    return out


# --- word matching -----------------------------------------------------------------------------

def _is_subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(c in letters for c in short)


def _shortened(s: str, t: str) -> str | None:
    """'spelling' for a plural, 'abbreviation' when one word is cut or contracted from the other."""
    if len(s) > len(t):
        s, t = t, s
    if s == t or s[0] != t[0]:
        return None
    if t in (s + "s", s + "x"):
        return "spelling"
    if not _plain(s) or not s.isalpha():
        return None  # "Ain" is not short for "Ainvest"
    if len(s) >= 4 and len(t) > len(s) + 1 and t.startswith(s):
        return "abbreviation"  # one letter short is a misspelling, left to _misspelt
    if len(s) <= 3 and len(t) > len(s) + 1 and _is_subsequence(s, t):
        return "abbreviation"
    return None


def _misspelt(s: str, t: str) -> str | None:
    if len(s) < 5 or len(t) < 5 or 2 * min(len(s), len(t)) / (len(s) + len(t)) < 0.85:
        return None
    matcher = difflib.SequenceMatcher(None, s, t)
    return "spelling" if matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85 else None


def _joined(words: Iterable[_Word]) -> str:
    """The user's words, each once ("AIN-SUD" gives two tokens but was typed once)."""
    return " ".join(dict.fromkeys(w.written for w in words))


def _exact(pa: _Parsed, pb: _Parsed, wa: list[float], wb: list[float],
           free_a: list[int], free_b: list[int]) -> list[_Match]:
    spots: dict[str, list[int]] = defaultdict(list)
    for j in free_b:
        spots[pb.tokens[j]].append(j)
    out = []
    for i in list(free_a):
        if not spots.get(pa.tokens[i]):
            continue
        j = spots[pa.tokens[i]].pop(0)
        x, y, w = pa.words[i], pb.words[j], min(wa[i], wb[j])
        short, full = sorted((x, y), key=lambda v: len(v.folded))
        expanded = x.folded != y.folded  # "SM" against "Supermarché": say so
        reason = Reason("abbreviation", short.written, full.written) if expanded else None
        out.append(_Match((i,), (j,), w, w, 1.0, w == 1.0, reason))
        free_a.remove(i)
        free_b.remove(j)
    return out


def _initials(px: _Parsed, py: _Parsed, wx: list[float], wy: list[float],
              free_x: list[int], free_y: list[int], flip: bool) -> list[_Match]:
    """'EV' on one side for the consecutive words 'Espaces Verts' on the other."""
    out = []
    for i in list(free_x):
        short = px.tokens[i]
        if not (2 <= len(short) <= 4 and short.isalpha() and _plain(short)):
            continue
        for start in range(len(py.tokens) - len(short) + 1):
            run = tuple(range(start, start + len(short)))
            if all(j in free_y for j in run) and "".join(py.tokens[j][0] for j in run) == short:
                w_run = [wy[j] for j in run]
                w_short = min(wx[i], max(w_run))
                reason = Reason("abbreviation", px.words[i].written, _joined(py.words[j] for j in run))
                m = ((i,), run, w_short, sum(w_run)) if not flip else (run, (i,), sum(w_run), w_short)
                out.append(_Match(*m, FUZZY, w_short == 1.0, reason))
                free_x.remove(i)
                for j in run:
                    free_y.remove(j)
                break
    return out


def _verdict(pa: _Parsed, pb: _Parsed, wa: list[float], wb: list[float], matches: list[_Match],
             free_a: list[int], free_b: list[int]) -> tuple[float, list[Reason]]:
    """matched / (matched + shortfall of fuzzy matches + unmatched), with the vetoes."""
    reasons = [m.reason for m in matches if m.reason]
    if not free_a and not free_b and all(m.factor == 1.0 for m in matches):
        return 1.0, list(dict.fromkeys([Reason("same_name"), *reasons]))
    if not any(m.distinctive for m in matches):
        return 0.0, []  # only "Groupe", "Lyon"... in common
    if pa.places.intersection(free_a) and pb.places.intersection(free_b):
        return 0.0, []  # "Plasturgie de l'Ain" and "Plasturgie du Rhône": two establishments
    matched = sum((m.wa + m.wb) * m.factor for m in matches) / 2
    shortfall = sum((m.wa + m.wb) * (1 - m.factor) for m in matches)
    unmatched = sum(wa[i] for i in free_a) + sum(wb[j] for j in free_b)
    if bool(free_a) != bool(free_b):  # one name holds the other: "Imprimerie" + "Bourg Graphic"
        unmatched /= 2
        extra, inner = (pb, pa) if free_b else (pa, pb)
        words = [extra.words[i] for i in (free_b or free_a)]
        reasons.append(Reason("contained", _joined(words), _joined(inner.words)))
    return round(matched / (matched + shortfall + unmatched), 2), list(dict.fromkeys(reasons))


class _Comparer:
    """Compares names within one map, remembering word weights and word relations: the same
    words meet again across thousands of pairs."""

    def __init__(self, ctx: Context | None) -> None:
        self.ctx = ctx
        self._weights: dict[str, list[float]] = {}
        self._relations: dict[tuple[bool, str, str], str | None] = {}

    def weights(self, p: _Parsed) -> list[float]:
        if p.key not in self._weights:
            self._weights[p.key] = _weights(p, self.ctx)
        return self._weights[p.key]

    def relation(self, spelling: bool, s: str, t: str) -> str | None:
        memo = (spelling, s, t)
        if memo not in self._relations:
            self._relations[memo] = (_misspelt if spelling else _shortened)(s, t)
        return self._relations[memo]

    def compare(self, pa: _Parsed, pb: _Parsed) -> tuple[float, list[Reason]]:
        """Score two names on their words alone (SIRENs are the caller's business)."""
        if not pa.words or not pb.words:
            return 0.0, []
        wa, wb = self.weights(pa), self.weights(pb)
        free_a, free_b = list(range(len(pa.tokens))), list(range(len(pb.tokens)))
        matches = _exact(pa, pb, wa, wb, free_a, free_b)
        if free_a and free_b:
            matches += _initials(pa, pb, wa, wb, free_a, free_b, flip=False)
            matches += _initials(pb, pa, wb, wa, free_b, free_a, flip=True)
            for spelling in (False, True):  # cut words and plurals before misspellings
                matches += self._related(pa, pb, wa, wb, free_a, free_b, spelling)
        return _verdict(pa, pb, wa, wb, matches, free_a, free_b)

    def _related(self, pa: _Parsed, pb: _Parsed, wa: list[float], wb: list[float],
                 free_a: list[int], free_b: list[int], spelling: bool) -> list[_Match]:
        out = []
        for i in list(free_a):
            for j in free_b:
                code = self.relation(spelling, pa.tokens[i], pb.tokens[j])
                if code is None:
                    continue
                x, y, w = pa.words[i], pb.words[j], min(wa[i], wb[j])
                if code == "abbreviation":
                    x, y = sorted((x, y), key=lambda v: len(v.token))
                out.append(_Match((i,), (j,), w, w, FUZZY, w == 1.0, Reason(code, x.written, y.written)))
                free_a.remove(i)
                free_b.remove(j)
                break
        return out


def _score_parsed(a: Name, b: Name, pa: _Parsed, pb: _Parsed,
                  cmp: _Comparer) -> tuple[float, list[Reason]]:
    sa, sb = siren_of(a.siren), siren_of(b.siren)
    if sa and sb and sa != sb:
        return 0.0, []
    value, reasons = cmp.compare(pa, pb)
    if sa and sa == sb:
        return 1.0, [Reason("same_siren", sa), *reasons]
    return value, reasons


def score(a: Name, b: Name, context: Context | None = None) -> tuple[float, list[Reason]]:
    """How alike two organisations look, 0 (incompatible) to 1, with the reasons to show."""
    return _score_parsed(a, b, _parse(a.name), _parse(b.name), _Comparer(context))
