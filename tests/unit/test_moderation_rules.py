"""The evasion table: every variant of every banned word is caught; innocent words are not."""

import pytest

from gtflow.errors import ConfigError
from gtflow.moderation.rules import Rule, RuleFilter, load_rules, skeleton

RULES = [
    Rule("slur-idiot", ("idiot",), "insult", "block"),
    Rule("gore", ("gore", "bloodbath"), "violence", "review"),
    Rule("ass", ("ass",), "profanity", "block"),
    Rule("kill", ("kill",), "violence", "block"),
    Rule("phrase", ("nazi salute",), "hate", "block"),
]
F = RuleFilter(RULES)

EVASIONS = {
    "slur-idiot": [
        "idiot", "IDIOT", "Idiot!", "you idiots", "1d10t", "!d!ot", "i d i o t", "i.d.i.o.t", "i-d-i-o-t",
        "id iot", "iiidiooot", "idiiiiot", "іdіоt",  # Cyrillic і and о
        "ｉｄｉｏｔ",  # fullwidth
        "ìdíòt",  # accents
        "id\u200biot",  # zero-width space
        "i_d_i_o_t",
    ],
    "gore": ["gore", "g0re", "g o r e", "GORE", "bl00dbath", "blood bath", "gοre"],  # Greek ο
    "ass": ["ass", "a$$", "@ss", "a s s", "4ss", "asses"],
    "kill": ["kill", "k1ll", "ki11", "kiiiill", "k i l l", "killing", "kills"],
    "phrase": ["nazi salute", "n4zi salute", "nazi  salute"],
}

INNOCENT = [
    "a classic class", "passing the assessment", "Scunthorpe", "an idiomatic phrase", "skill and skillful",
    "killjoy" , "gorilla in the forest", "bass guitar", "a glass of water", "the embassy", "pass the salt",
    "Massachusetts", "as she said", "kilo meter", "go rest", "as sure as", "I dio tomorrow",
]


@pytest.mark.parametrize("rule,text", [(r, t) for r, ts in EVASIONS.items() for t in ts])
def test_every_variant_is_caught(rule, text):
    assert rule in {m.rule for m in F.check(text)}, text


@pytest.mark.parametrize("text", INNOCENT)
def test_ordinary_words_are_not_flagged(text):
    assert F.check(text) == [], text


def test_match_reports_rule_span_and_action():
    text = "draw a g0re scene"
    (m,) = F.check(text)
    assert (m.rule, m.category, m.action, m.term) == ("gore", "violence", "review", "gore")
    assert text[m.start : m.end] == "g0re"


def test_allow_list_overrides():
    assert RuleFilter(RULES, allow=["asses"]).check("asses") == []


def test_skeleton():
    assert skeleton("Ba@@d W0rd") == "badword"


def test_load_rules_errors(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text("- id: x\n  terms: [a1b]\n- id: y\n")
    with pytest.raises(ConfigError) as info:
        load_rules(p)
    assert info.value.path == str(p) and info.value.field == "[1]"
    with pytest.raises(ConfigError):
        Rule("z", ("...",))
