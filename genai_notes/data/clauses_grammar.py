"""The rules of the language with clauses (:mod:`genai_notes.data.clauses`).

Each kind of nonterminal is one function below, which returns its rules as a list of
``(weight, right-hand side)``; weights are relative and the grammar normalises them. A
nonterminal is a tuple ``(kind, *features)``. Agreement travels down the tree in the
features: ``("VP", queen, "pl")`` can only produce plural verbs and the pronoun "they", and
``("SAYS_THAT", queen, "sg")`` only "she", however many words back the subject was.

Every rule of a nonterminal starts with a different word, or the choice is made by the word
after an optional part, so the grammar is LL(1); the :class:`~genai_notes.data.pcfg.Grammar`
constructor checks it.

>>> from genai_notes.data.clauses_lexicon import SMALL
>>> rules = grammar_rules(SMALL)
>>> rules[("S",)]
[(1.0, ('the', ('SUBJECT',), '.'))]
>>> king = SMALL.people[0]
>>> rules[("AND_THEN", king, "pl")][1]
(0.25, ('and', 'then', 'they', ('CLAUSE', Person(en='king', es='rey', gender='m', rank='royal', age='adult'), 'pl', False)))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from genai_notes.data.clauses_lexicon import PLURAL, TRAIT_WEIGHTS, Vocabulary
from genai_notes.data.sentences import _leaning_weights
from genai_notes.lexicon import Noun, Person

__all__ = ["NUMBERS", "grammar_rules"]

NUMBERS = (("sg", 0.75), ("pl", 0.25))  # the number of every noun phrase, and its weight

Rules = list[tuple[float, tuple]]

# ----------------------------------------------------------------------------------------
# Word forms


def _noun(word: str, number: str) -> str:
    return word if number == "sg" else PLURAL[word]


def _verb(base: str, number: str) -> str:
    return base + "s" if number == "sg" else base


def _be(number: str) -> str:
    return "is" if number == "sg" else "are"


def _pronoun(head: Person | Noun, number: str, case: int = 0) -> str:
    """The subject (``case=0``) or object (``case=1``) pronoun that refers to ``head``."""
    if number == "pl":
        return ("they", "them")[case]
    if isinstance(head, Noun):
        return "it"
    return (("he", "him"), ("she", "her"))[head.gender == "f"][case]


def _seq(*parts: str | tuple) -> tuple:
    """A right-hand side: strings are split into words, nonterminals are kept."""
    out: list = []
    for part in parts:
        out.extend(part.split() if isinstance(part, str) else [part])
    return tuple(out)


def _forms(
    nouns: Sequence[Noun | Person],
    then: Callable[[Noun | Person, str], Sequence] = lambda noun, number: (),
    weights: Sequence[float] | None = None,
) -> Rules:
    """Rules choosing a noun (uniformly, or by ``weights``) and its number, then ``then``."""
    weights = [1.0] * len(nouns) if weights is None else weights
    total = sum(weights)
    return [
        (w / total * nw, _seq(_noun(noun.en, number), *then(noun, number)))
        for noun, w in zip(nouns, weights)
        for number, nw in NUMBERS
    ]


def _choice(words: Sequence[str], *then: str | tuple) -> Rules:
    """Rules choosing one of ``words`` uniformly, each followed by ``then``."""
    return [(1.0, _seq(word, *then)) for word in words]


def _verbs(bases: Sequence[str], number: str, *then: str | tuple) -> Rules:
    return _choice([_verb(b, number) for b in bases], *then)


def _optional(weight: float, rhs: tuple) -> Rules:
    """Nothing (probability ``1 - weight``) or ``rhs``."""
    return [(1.0 - weight, ()), (weight, rhs)]


# ----------------------------------------------------------------------------------------
# Sentences, subjects and relative clauses


def _sentence(v: Vocabulary) -> Rules:
    return [(1.0, _seq("the", ("SUBJECT",), "."))]


def _subject(v: Vocabulary) -> Rules:
    people = _forms(v.people, lambda p, n: [("PERSON_REST", p, n)])
    return [(0.7 * w, rhs) for w, rhs in people] + [(0.3, (("ANIMAL_SUBJECT",),))]


def _person_rest(v: Vocabulary, p: Person, n: str) -> Rules:
    vp = ("VP", p, n)
    who = ("who", ("WHO", p, n), vp)  # "the queen who feeds the owl rules ..."
    that = ("that", "the", ("THAT_SUBJECT", "person"), vp)  # "the queen that the boy sees ..."
    return [(0.5, (vp,)), (0.3, who), (0.2, that)]


def _who(v: Vocabulary, p: Person, n: str) -> Rules:
    """A subject relative clause: its verb agrees with the head ``p``."""
    return [
        (1.0, _seq(_verb("feed", n), "the", ("PET", p.rank))),
        (1.0, _seq(_verb("live", n), "in the", ("PLACE", p.rank))),
        *_verbs(v.person_verbs, n, "the", ("PERSON",)),
    ]


def _that_subject(v: Vocabulary, head: str) -> Rules:
    """The subject of an object relative clause: its verb agrees with it, not with the head."""
    by_person = v.person_verbs if head == "person" else v.care_verbs
    return [
        *_forms(v.people, lambda p, n: [("VERB", by_person, n)]),
        *_forms(v.animals, lambda a, n: [("VERB", v.hunt_verbs, n)]),
    ]


def _verb_alone(v: Vocabulary, bases: tuple[str, ...], n: str) -> Rules:
    return _verbs(bases, n)


# ----------------------------------------------------------------------------------------
# What people do


def _vp(v: Vocabulary, p: Person, n: str) -> Rules:
    return [(1.0, (("CLAUSE", p, n, True), ("AND_THEN", p, n)))]


def _and_then(v: Vocabulary, p: Person, n: str) -> Rules:
    return _optional(0.25, _seq("and then", _pronoun(p, n), ("CLAUSE", p, n, False)))


def _clause(v: Vocabulary, p: Person, n: str, main: bool) -> Rules:
    """What a person does. Only the ``main`` clause may say "says that ..." or give its
    object a relative clause, which bounds the depth of the tree."""
    r = p.rank
    # Royals rule and commoners work, as in the easy language.
    duty = ("rule", "the kingdom") if r == "royal" else ("work", "on the farm")
    rules = [
        (0.08, _seq(_verb(duty[0], n), duty[1])),
        (0.20, (("MEAL", p, n),)),
        (0.12, _seq(_verb("feed", n), "the", ("PET", r))),
        (0.10, _seq(_verb("walk", n), "to the", ("PLACE", r), "with the", ("ANIMAL", r))),
        (0.10, _seq(_be(n), ("QUALITY", p.age))),
        (0.14, _seq(("VERB", v.person_verbs, n), "the", ("OBJECT" if main else "PERSON",))),
    ]
    if p.age == "young":
        play = _seq(_verb("play", n), "with the", ("ANIMAL", r), "in the", ("PLACE", r))
        rules.append((0.06, play))
    if main:
        rules.append((0.14, _seq(("VERB", v.say_verbs, n), "that", ("SAYS_THAT", p, n))))
    return rules


def _meal(v: Vocabulary, p: Person, n: str) -> Rules:
    return [
        (1.0, _seq(_verb(f, n), "the", ("FOOD",), ("AFTER_MEAL", p, n, f == "eat")))
        for f in v.food_verbs
    ]


def _after_meal(v: Vocabulary, p: Person, n: str, eats: bool) -> Rules:
    because = _seq("because", _pronoun(p, n), _be(n), ("STATE", eats))
    return [(0.6, _seq("in the", ("PLACE", p.rank))), (0.4, because)]


def _says_that(v: Vocabulary, p: Person, n: str) -> Rules:
    """After "says that": "she ..." (the pronoun names the subject), or "the boy helps her"."""
    return [
        (0.6, (_pronoun(p, n), ("CLAUSE", p, n, False))),
        (0.4, ("the", ("EMBEDDED_SUBJECT", _pronoun(p, n, case=1)))),
    ]


def _embedded_subject(v: Vocabulary, object_pronoun: str) -> Rules:
    return [
        *_forms(v.people, lambda p, n: [("VERB", v.person_verbs, n), object_pronoun]),
        *_forms(v.animals, lambda a, n: [("VERB", v.hunt_verbs, n), object_pronoun]),
    ]


def _person(v: Vocabulary) -> Rules:
    return _forms(v.people)


def _object(v: Vocabulary) -> Rules:
    """A person as object, who may have a relative clause agreeing with them."""
    return _forms(v.people, lambda p, n: [("OBJECT_WHO", p, n)])


def _object_who(v: Vocabulary, p: Person, n: str) -> Rules:
    return _optional(0.3, ("who", ("WHO", p, n)))


# ----------------------------------------------------------------------------------------
# What animals do


def _animal_subject(v: Vocabulary) -> Rules:
    adjectives = [(0.4 / len(v.adjectives), (a.en, ("ANIMAL_HEAD",))) for a in v.adjectives]
    return adjectives + [(0.6, (("ANIMAL_HEAD",),))]


def _animal_head(v: Vocabulary) -> Rules:
    return _forms(v.animals, lambda a, n: [("ANIMAL_REST", a, n)])


def _animal_rest(v: Vocabulary, a: Noun, n: str) -> Rules:
    vp = ("ANIMAL_VP", a, n)
    return [(0.6, (vp,)), (0.4, ("that", ("ANIMAL_THAT", a, n), vp))]


def _animal_that(v: Vocabulary, a: Noun, n: str) -> Rules:
    """After "that": "chases the hen" (the fox chases) or "the queen feeds" (the owl is fed)."""
    hunts = _verbs(v.hunt_verbs, n, "the", ("PREY", a))
    fed = ("the", ("THAT_SUBJECT", "animal"))
    return [(0.5 / len(hunts), rhs) for _, rhs in hunts] + [(0.5, fed)]


def _animal_vp(v: Vocabulary, a: Noun, n: str) -> Rules:
    return [(1.0, (("ANIMAL_CLAUSE", a, n), ("ANIMAL_BECAUSE", a, n)))]


def _animal_because(v: Vocabulary, a: Noun, n: str) -> Rules:
    return _optional(0.3, _seq("because", _pronoun(a, n), _be(n), ("STATE", False)))


def _animal_clause(v: Vocabulary, a: Noun, n: str) -> Rules:
    # Animals lean to places as people do: owls to castles, cows to farms.
    return [
        (0.3, _seq(("VERB", v.hunt_verbs, n), "the", ("PREY", a))),
        (0.25, _seq(_verb("sleep", n), "in the", ("PLACE", a.leaning))),
        (0.2, _seq(_verb("run", n), "to the", ("PLACE", a.leaning))),
        (0.25, _seq(_be(n), ("ANIMAL_QUALITY",))),
    ]


def _prey(v: Vocabulary, a: Noun) -> Rules:
    return _forms([b for b in v.animals if b is not a])


def _animal_quality(v: Vocabulary) -> Rules:
    return _choice([a.en for a in v.adjectives] + [s.en for s in v.states])


# ----------------------------------------------------------------------------------------
# Single words: pets, places, foods, qualities


def _pet(v: Vocabulary, rank: str) -> Rules:
    adjectives = [(0.4 / len(v.adjectives), (a.en, ("ANIMAL", rank))) for a in v.adjectives]
    return adjectives + [(0.6, (("ANIMAL", rank),))]


def _animal(v: Vocabulary, rank: str | None) -> Rules:
    # The rank's animals are 4x as likely as neutral ones, the other rank's 4x less.
    return _forms(v.animals, weights=_leaning_weights(v.animals, rank))


def _place(v: Vocabulary, rank: str | None) -> Rules:
    weights = _leaning_weights(v.places, rank)
    return [(w, (place.en,)) for place, w in zip(v.places, weights)]


def _food(v: Vocabulary) -> Rules:
    return _choice([f.en for f in v.foods])


def _quality(v: Vocabulary, age: str) -> Rules:
    weights = [TRAIT_WEIGHTS[t.en][age] for t in v.traits]
    traits = [(0.6 * w / sum(weights), (t.en,)) for t, w in zip(v.traits, weights)]
    return traits + [(0.4 / len(v.states), (s.en,)) for s in v.states]


def _state(v: Vocabulary, after_eating: bool) -> Rules:
    # People who eat are more often hungry, as in the easy language.
    return [(3.0 if after_eating and s.en == "hungry" else 1.0, (s.en,)) for s in v.states]


_KINDS: dict[str, Callable[..., Rules]] = {
    "S": _sentence, "SUBJECT": _subject, "PERSON_REST": _person_rest, "WHO": _who,
    "THAT_SUBJECT": _that_subject, "VERB": _verb_alone, "VP": _vp, "AND_THEN": _and_then,
    "CLAUSE": _clause, "MEAL": _meal, "AFTER_MEAL": _after_meal, "SAYS_THAT": _says_that,
    "EMBEDDED_SUBJECT": _embedded_subject, "PERSON": _person, "OBJECT": _object,
    "OBJECT_WHO": _object_who, "ANIMAL_SUBJECT": _animal_subject, "ANIMAL_HEAD": _animal_head,
    "ANIMAL_REST": _animal_rest, "ANIMAL_THAT": _animal_that, "ANIMAL_VP": _animal_vp,
    "ANIMAL_BECAUSE": _animal_because, "ANIMAL_CLAUSE": _animal_clause, "PREY": _prey,
    "ANIMAL_QUALITY": _animal_quality, "PET": _pet, "ANIMAL": _animal, "PLACE": _place,
    "FOOD": _food, "QUALITY": _quality, "STATE": _state,
}  # fmt: skip


def grammar_rules(vocabulary: Vocabulary) -> dict[tuple, Rules]:
    """Every nonterminal reachable from ``("S",)`` with its rules, for a
    :class:`~genai_notes.data.pcfg.Grammar`.

    >>> from genai_notes.data.clauses_lexicon import FULL
    >>> len(grammar_rules(FULL))
    340
    """
    rules: dict[tuple, Rules] = {}
    todo = [("S",)]
    while todo:
        nt = todo.pop()
        if nt not in rules:
            rules[nt] = _KINDS[nt[0]](vocabulary, *nt[1:])
            todo += [s for _, rhs in rules[nt] for s in rhs if isinstance(s, tuple)]
    return rules
