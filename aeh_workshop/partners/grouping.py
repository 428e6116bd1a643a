"""Duplicate suggestions for a whole map: which pairs of names to compare (not all
of them: 5,000 names make 12 million pairs), then groups in which every two names
look alike (names.py scores a pair).

Pure Python, like names.py.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Iterable, Iterator

from .names import (Group, Name, _Comparer, _context_of, _fold, _misspelt, _parse, _Parsed, _plain, _score_parsed,
                    _shortened, siren_of)


# --- candidate pairs ---------------------------------------------------------------------------

def _related_tokens(vocab: list[str]) -> Iterator[tuple[str, str]]:
    """Pairs of words that may be a cut, a contraction, a plural or a misspelling of each other,
    found through prefixes, first letters and one-letter deletions rather than all pairs."""
    known = set(vocab)
    by_first: dict[str, list[str]] = defaultdict(list)
    deletions: dict[str, list[str]] = defaultdict(list)
    for t in vocab:
        by_first[t[0]].append(t)
        if len(t) >= 5:
            for v in {t, *(t[:k] + t[k + 1:] for k in range(len(t)))}:
                deletions[v].append(t)
    for t in vocab:
        yield from ((t, t + s) for s in "sx" if t + s in known)
        if len(t) >= 4:
            k = bisect_left(vocab, t) + 1
            while k < len(vocab) and vocab[k].startswith(t):
                yield t, vocab[k]
                k += 1
        elif len(t) >= 2:
            yield from ((t, r) for r in by_first[t[0]] if _shortened(t, r) == "abbreviation")
    for bucket in deletions.values():
        yield from ((t, r) for t, r in combinations(bucket, 2) if _misspelt(t, r))


@dataclass(frozen=True)
class _Profile:
    """What a key surely brings to any pair it is in, for a cheap upper bound on the score."""

    tokens: frozenset[str]
    distinct: tuple[str, ...]  # words of weight 1
    places: frozenset[str]
    total: float


def _profile(p: _Parsed, weights: list[float]) -> _Profile:
    distinct = tuple(t for t, w in zip(p.tokens, weights) if w == 1.0)
    places = frozenset(p.tokens[i] for i in p.places)
    return _Profile(frozenset(p.tokens), distinct, places, sum(weights))


def _reaches(t: str, other: _Profile, related: dict[str, set[str]]) -> bool:
    return t in other.tokens or not related.get(t, set()).isdisjoint(other.tokens)


def _bound(a: _Profile, b: _Profile, related: dict[str, set[str]]) -> float:
    """Best score the pair could reach: words with no equal nor related word opposite are lost."""
    if (any(not _reaches(p, b, related) for p in a.places)
            and any(not _reaches(p, a, related) for p in b.places)):
        return 0.0  # each has a place the other lacks
    lost_a = sum(1.0 for t in a.distinct if not _reaches(t, b, related))
    lost_b = sum(1.0 for t in b.distinct if not _reaches(t, a, related))
    best = (a.total - lost_a + b.total - lost_b) / 2
    return best / (best + (lost_a + lost_b) / 2) if best > 0 else 0.0


def _candidate_keys(parsed: dict[str, _Parsed], cmp: _Comparer, threshold: float) -> set[tuple[str, str]]:
    """Pairs of keys that may reach the threshold. A score needs an identifying word in common
    (equal, cut, plural, misspelt) or an acronym, so only such pairs are looked at, and of those
    only the ones whose upper bound reaches the threshold."""
    profiles = {k: _profile(p, cmp.weights(p)) for k, p in parsed.items()}
    by_token: dict[str, set[str]] = defaultdict(set)  # identifying words only
    by_any: dict[str, set[str]] = defaultdict(set)
    by_initials: dict[str, set[str]] = defaultdict(set)
    for key, p in parsed.items():
        for t in profiles[key].distinct:
            by_token[t].add(key)
        for t in p.tokens:
            by_any[t].add(key)
        for size in (2, 3, 4):
            for s in range(len(p.tokens) - size + 1):
                by_initials["".join(t[0] for t in p.tokens[s:s + size])].add(key)
    related: dict[str, set[str]] = defaultdict(set)
    for t, r in _related_tokens(sorted(by_any)):
        related[t].add(r)
        related[r].add(t)
    for t, r in {pair for near in list(related.values()) for pair in combinations(sorted(near), 2)}:
        if _misspelt(t, r) or _shortened(t, r):  # two misspellings of one word: "imprimrie", "imprimere"
            related[t].add(r)
            related[r].add(t)
    acronyms: set[tuple[str, str]] = set()  # rare, and outside the bound: always scored
    close: set[tuple[str, str]] = set()
    for t, keys in by_any.items():
        if t.isalpha() and 2 <= len(t) <= 4 and _plain(t):
            _add_pairs(acronyms, keys, by_initials.get(t, ()))
    for t, keys in by_token.items():
        close.update(combinations(sorted(keys), 2))
        for r in related.get(t, ()):
            _add_pairs(close, keys, by_token.get(r, ()))
    bounded = {(x, y) for x, y in close - acronyms
               if _bound(profiles[x], profiles[y], related) >= threshold}
    return acronyms | bounded


def _add_pairs(pairs: set[tuple[str, str]], left: Iterable[str], right: Iterable[str]) -> None:
    pairs.update((x, y) if x < y else (y, x) for x in left for y in right if x != y)


# --- suggestions -------------------------------------------------------------------------------

class _Scores:
    """Pair scores for one `suggest` call: candidates up front, any other pair on demand."""

    def __init__(self, names: dict[int, Name], parsed: dict[int, _Parsed], cmp: _Comparer) -> None:
        self.names, self.parsed, self.cmp = names, parsed, cmp
        self.sirens = {i: siren_of(n.siren) for i, n in names.items()}
        self.known: dict[tuple[int, int], float] = {}

    def adjusted(self, i: int, j: int, by_name: float) -> float:
        si, sj = self.sirens[i], self.sirens[j]
        return (1.0 if si == sj else 0.0) if si and sj else by_name

    def get(self, i: int, j: int) -> float:
        pair = (i, j) if i < j else (j, i)
        if pair not in self.known:
            self.known[pair] = self.adjusted(i, j, self.cmp.compare(self.parsed[i], self.parsed[j])[0])
        return self.known[pair]

    def fill(self, threshold: float) -> None:
        """Score the candidates: same key, same SIREN, or close words."""
        ids_by_key: dict[str, list[int]] = defaultdict(list)
        ids_by_siren: dict[str, list[int]] = defaultdict(list)
        for i in sorted(self.names):
            ids_by_key[self.parsed[i].key].append(i)
            if self.sirens[i]:
                ids_by_siren[self.sirens[i]].append(i)
        for same in [*ids_by_key.values(), *ids_by_siren.values()]:
            for i, j in combinations(same, 2):
                self.known[(i, j)] = self.adjusted(i, j, 1.0)
        by_key = {k: self.parsed[ids[0]] for k, ids in ids_by_key.items()}
        for k1, k2 in _candidate_keys(by_key, self.cmp, threshold):
            value = self.cmp.compare(by_key[k1], by_key[k2])[0]
            for i in ids_by_key[k1]:
                for j in ids_by_key[k2]:
                    pair = (i, j) if i < j else (j, i)
                    self.known.setdefault(pair, self.adjusted(i, j, value))


def _clusters(scores: _Scores, threshold: float, rejected: set[frozenset[int]]) -> list[list[int]]:
    """Join the most alike first; a join needs every cross pair >= threshold and not rejected."""
    cluster_of: dict[int, list[int]] = {}
    ranked = sorted(scores.known.items(), key=lambda item: (-item[1], item[0]))
    for (i, j), value in ranked:
        if value < threshold:
            break
        ci, cj = cluster_of.get(i, [i]), cluster_of.get(j, [j])
        if ci is cj or any(frozenset((x, y)) in rejected or scores.get(x, y) < threshold
                           for x in ci for y in cj):
            continue
        merged = ci + cj
        for x in merged:
            cluster_of[x] = merged
    return list({id(c): c for c in cluster_of.values()}.values())


def _group(members: list[int], scores: _Scores) -> Group:
    """Survivor first: the name with the most words, then the most letters, then the lowest id."""
    def completeness(i: int) -> tuple[int, int, int]:
        letters = sum(c.isalnum() for c in scores.names[i].name)
        return (-len(scores.parsed[i].words), -letters, i)

    survivor = min(members, key=completeness)
    ordered = [survivor, *sorted(i for i in members if i != survivor)]
    values, reasons = [], []
    for i, j in combinations(ordered, 2):
        value, why = _score_parsed(scores.names[i], scores.names[j],
                                   scores.parsed[i], scores.parsed[j], scores.cmp)
        values.append(value)
        reasons.extend(why)
    return Group(ordered, [scores.names[i].name for i in ordered], round(min(values), 2),
                 list(dict.fromkeys(reasons)))


def suggest(names: Iterable[Name], threshold: float = 0.6,
            rejected: Iterable[frozenset[int]] = ()) -> list[Group]:
    """Merge suggestions for a map's organisations, most certain first."""
    by_id: dict[int, Name] = {}
    parsed: dict[int, _Parsed] = {}
    for n in names:
        if n.id not in by_id and (p := _parse(n.name)).words:  # blank or punctuation only: skip
            by_id[n.id], parsed[n.id] = n, p
    scores = _Scores(by_id, parsed, _Comparer(_context_of(parsed.values())))
    scores.fill(threshold)
    clusters = _clusters(scores, threshold, {frozenset(r) for r in rejected})
    groups = [_group(members, scores) for members in clusters]
    return sorted(groups, key=lambda g: (-g.score, _fold(g.names[0]), g.ids[0]))
