"""A banned-term rule filter for prompts that resists the usual evasions.

Text and terms are reduced to the same *skeleton* before they are compared:

- Unicode NFKC, then decomposition with combining marks dropped (``é`` → ``e``), case folded;
- look-alike letters from other scripts mapped to Latin (Cyrillic ``а``, Greek ``ο`` ...);
- common substitutions undone (``0→o 1→i 3→e 4→a 5→s 7→t @→a $→s`` ...);
- zero-width characters removed; runs of a repeated letter collapsed (``baaad`` → ``bad``).

A term matches a whole word, or a run of short fragments that were split apart by spaces or
punctuation (``b a d``, ``b.a.d``, ``b-a-d``), but never the inside of an ordinary longer word,
so ``class`` or ``Scunthorpe`` are not flagged by a short term they happen to contain.

    >>> f = RuleFilter([Rule("insult", ("idiot",))])
    >>> [m.rule for m in f.check("you 1d10t")]
    ['insult']
    >>> f.check("an idiomatic phrase")
    []
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtflow.errors import ConfigError

__all__ = ["Rule", "RuleMatch", "RuleFilter", "skeleton", "load_rules"]

# Letters from other scripts that render like Latin ones (a practical subset of Unicode's
# confusables table: the ones seen in evasion).
_CONFUSABLES = {
    "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "ѕ": "s", "т": "t", "у": "y", "х": "x",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i", "ȷ": "j", "ℓ": "l",
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ѵ": "v",
}
# Digits and symbols used as letters ("leetspeak").
_SUBSTITUTIONS = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e", "£": "l", "¡": "i",
}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_MAX_GAP = 3  # separators allowed between fragments of a split word
_FRAGMENT = 3  # a split word is made of fragments at most this long


# Substitutions that could stand for either of two letters.
_AMBIGUOUS = {"1": "l", "|": "i", "!": "l"}


def _collapse(s: str) -> str:
    return re.sub(r"(.)\1+", r"\1", s)


def _pattern(letters: str) -> re.Pattern[str]:
    """Each run of a letter in the term matches that letter repeated at least as often."""
    parts = [f"{re.escape(m.group(1))}{{{len(m.group(0))},}}" for m in re.finditer(r"(.)\1*", letters)]
    return re.compile("".join(parts))


def _letters(text: str) -> list[tuple[int, str, str, bool]]:
    """(position, letter, alternative letter, came from a symbol) for each letter-like char."""
    out = []
    text = text.translate(_ZERO_WIDTH)
    for i, raw in enumerate(text):
        norm = unicodedata.normalize("NFKC", raw).casefold()
        for ch in unicodedata.normalize("NFKD", norm):
            if unicodedata.category(ch) == "Mn":
                continue
            ch = _CONFUSABLES.get(ch, ch)
            sub = _SUBSTITUTIONS.get(ch)
            if sub is not None:
                out.append((i, sub, _AMBIGUOUS.get(ch, sub), not ch.isalnum()))
            elif ch.isalpha():
                out.append((i, ch, ch, False))
    return out


def skeleton(text: str) -> str:
    """The comparison form of a term: folded letters, repeats collapsed.

    >>> skeleton("Ba@@d  W0rd!")
    'badwordi'
    """
    return _collapse("".join(ch for _, ch, _, _ in _letters(text)))


@dataclass(frozen=True)
class Rule:
    """Terms that mean one thing: the rule's id is what a match reports."""

    id: str
    terms: tuple[str, ...]
    category: str = "banned"
    action: str = "block"  # block | review | warn

    def __post_init__(self) -> None:
        if self.action not in ("block", "review", "warn"):
            raise ConfigError(f"rule {self.id!r}: action must be block, review or warn", field="action")
        if not self.terms or not all(skeleton(t) for t in self.terms):
            raise ConfigError(f"rule {self.id!r}: every term needs letters", field="terms")


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    term: str
    category: str
    action: str
    start: int  # span in the original text
    end: int
    text: str = field(repr=False)


@dataclass
class _Token:
    start: int
    end: int
    main: str  # folded letters, repeats kept
    alt: str  # the same with ambiguous substitutions read the other way (1 -> l)
    lead_sym: int = 0  # letters at the start / end that came from symbols ('!idiot!')
    trail_sym: int = 0

    def variants(self) -> set[str]:
        out = set()
        for v in (self.main, self.alt):
            out.add(v)
            a, b = self.lead_sym, len(v) - self.trail_sym
            out.update({v[a:], v[:b], v[a:b]} - {""})
        return out


def _tokens(text: str) -> list[_Token]:
    toks: list[_Token] = []
    prev = -2
    for pos, ch, alt, sym in _letters(text):
        # Letters separated only by characters that fold to nothing (zero-width, combining
        # marks) stay in one token; any other character splits.
        if toks and pos == prev + 1:
            t = toks[-1]
            t.end, t.main, t.alt = pos + 1, t.main + ch, t.alt + alt
            t.trail_sym = t.trail_sym + 1 if sym else 0
        else:
            toks.append(_Token(pos, pos + 1, ch, alt, int(sym), int(sym)))
        if toks[-1].lead_sym == len(toks[-1].main) - 1 and sym and len(toks[-1].main) > 1:
            toks[-1].lead_sym += 1
        prev = pos
    return toks


_ENDINGS = ("s", "es", "ed", "ing", "er", "ers", "y")


class RuleFilter:
    """Checks text against rules; see the module docstring for what it catches."""

    def __init__(self, rules: Iterable[Rule], *, allow: Iterable[str] = ()) -> None:
        self.rules = list(rules)
        # collapsed skeleton -> [(rule, term, pattern on uncollapsed letters)]
        self._terms: dict[str, list[tuple[Rule, str, re.Pattern[str]]]] = {}
        for rule in self.rules:
            for term in rule.terms:
                letters = "".join(ch for _, ch, _, _ in _letters(term))
                self._terms.setdefault(_collapse(letters), []).append((rule, term, _pattern(letters)))
        self._allow = {skeleton(a) for a in allow}
        self._max_len = max((len(k) for k in self._terms), default=0)

    def check(self, text: str) -> list[RuleMatch]:
        """Every rule that matches, in text order (one match per span)."""
        toks = _tokens(text)
        matches: list[RuleMatch] = []
        i = 0
        while i < len(toks):
            hit = self._match_at(text, toks, i)
            if hit is None:
                i += 1
                continue
            matches.extend(hit[0])
            i = hit[1]
        return matches

    def _lookup(self, letters: str, *, endings: bool) -> list[tuple[Rule, str]]:
        candidates = [letters]
        if endings:
            candidates += [letters[: -len(e)] for e in _ENDINGS if letters.endswith(e) and len(letters) > len(e)]
        for cand in candidates:
            key = _collapse(cand)
            if key in self._allow or key not in self._terms:
                continue
            found = [(r, t) for r, t, pat in self._terms[key] if pat.fullmatch(cand)]
            if found:
                return found
        return []

    def _emit(self, text: str, found: list[tuple[Rule, str]], start: int, end: int) -> list[RuleMatch]:
        return [RuleMatch(r.id, t, r.category, r.action, start, end, text[start:end]) for r, t in found]

    def _match_at(self, text: str, toks: list[_Token], i: int) -> tuple[list[RuleMatch], int] | None:
        if _collapse(toks[i].main) in self._allow:
            return None
        # 1. the whole token is a term (optionally with a plural/verb ending)
        for v in toks[i].variants():
            found = self._lookup(v, endings=True)
            if found:
                return self._emit(text, found, toks[i].start, toks[i].end), i + 1
        # 2. a term split by spaces or punctuation: "b a d", "b.a.d", "blood bath", a phrase.
        joined = {toks[i].main, toks[i].alt}
        short = len(toks[i].main) <= _FRAGMENT
        j = i
        while j + 1 < len(toks):
            gap = text[toks[j].end : toks[j + 1].start]
            if len(gap) > _MAX_GAP or "\n" in gap:
                break
            j += 1
            short = short and len(toks[j].main) <= _FRAGMENT
            joined = {a + b for a in joined for b in (toks[j].main, toks[j].alt)}
            if min(len(_collapse(v)) for v in joined) > self._max_len:
                break
            for v in joined:
                # whole words joined must equal a term exactly; fragments may carry an ending
                found = self._lookup(v, endings=short)
                if not found:
                    continue
                nxt = toks[j + 1] if j + 1 < len(toks) else None
                glued = nxt is not None and short and len(nxt.main) <= _FRAGMENT and text[toks[j].end : nxt.start].strip() == ""
                if not glued or not short:
                    return self._emit(text, found, toks[i].start, toks[j].end), j + 1
        return None

def load_rules(source: str | Path | Sequence[Mapping[str, Any]]) -> list[Rule]:
    """Rules from a YAML/JSON file or a list of mappings ``{id, terms, category?, action?}``."""
    path = None
    if isinstance(source, (str, Path)):
        import yaml

        path = str(source)
        data = yaml.safe_load(Path(source).read_text())
    else:
        data = source
    if not isinstance(data, list):
        raise ConfigError("a rules file is a list of rules", path=path)
    rules = []
    for n, item in enumerate(data):
        try:
            rules.append(Rule(id=str(item["id"]), terms=tuple(item["terms"]),
                              category=str(item.get("category", "banned")), action=str(item.get("action", "block"))))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"rule {n}: needs id and terms ({exc})", path=path, field=f"[{n}]") from exc
        except ConfigError as exc:
            raise exc.at(path=path) from exc.__cause__
    return rules
