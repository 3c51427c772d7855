"""The words of the language with clauses (:mod:`genai_notes.data.clauses`).

It is the world of :mod:`genai_notes.lexicon`, unchanged, with a few more animals, places,
states and colours, the plural of every person and animal, and the verbs the clauses need.
Every English verb here is regular in the present tense: the singular adds ``s`` to the
plural (``see``/``sees``), except ``is``/``are``, which the grammar writes itself.

A :class:`Vocabulary` picks the words of one setting: :data:`FULL`, the language the book
trains on, and :data:`SMALL`, the same grammar over a handful of words, small enough to list
every sentence (the tests check the exact computations against that list).

>>> [a.en for a in MORE_ANIMALS], PLURAL["mouse"], PLURAL["princess"]
(['swan', 'hawk', 'pig', 'hen'], 'mice', 'princesses')
>>> len(FULL.people), len(FULL.animals), len(FULL.places), len(SMALL.people)
(8, 12, 12, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

from genai_notes.lexicon import (
    ANIMAL_ADJECTIVES,
    ANIMALS,
    FOOD_VERBS,
    FOODS,
    PEOPLE,
    PLACES,
    STATES,
    TRAITS,
    Adjective,
    Noun,
    Person,
)

__all__ = [
    "MORE_ANIMALS",
    "MORE_PLACES",
    "MORE_STATES",
    "MORE_ANIMAL_ADJECTIVES",
    "PLURAL",
    "TRAIT_WEIGHTS",
    "Vocabulary",
    "FULL",
    "SMALL",
]

# Two more animals for each rank, so royal and common pets stay balanced.
MORE_ANIMALS: tuple[Noun, ...] = (
    Noun("swan", "cisne", "m", "royal"),
    Noun("hawk", "halcón", "m", "royal"),
    Noun("pig", "cerdo", "m", "common"),
    Noun("hen", "gallina", "f", "common"),
)

MORE_PLACES: tuple[Noun, ...] = (
    Noun("tower", "torre", "f", "royal"),
    Noun("hall", "salón", "m", "royal"),
    Noun("forest", "bosque", "m"),
    Noun("barn", "granero", "m", "common"),
)

MORE_STATES: tuple[Adjective, ...] = (
    Adjective("sad", "está triste", "está triste"),
    Adjective("cold", "tiene frío", "tiene frío"),
)

MORE_ANIMAL_ADJECTIVES: tuple[Adjective, ...] = (
    Adjective("brown", "marrón", "marrón"),
    Adjective("grey", "gris", "gris"),
)

# Every plural differs from its singular, so a noun alone shows its number.
PLURAL: dict[str, str] = {
    "king": "kings", "queen": "queens", "prince": "princes", "princess": "princesses",
    "man": "men", "woman": "women", "boy": "boys", "girl": "girls",
    "horse": "horses", "owl": "owls", "dog": "dogs", "cat": "cats", "cow": "cows",
    "goat": "goats", "fox": "foxes", "mouse": "mice", "swan": "swans", "hawk": "hawks",
    "pig": "pigs", "hen": "hens",
}  # fmt: skip

# How often a trait is said of an adult and of a young person (relative weights), as in the
# easy language: "old" and "wise" mark adults, "young" marks children.
TRAIT_WEIGHTS: dict[str, dict[str, float]] = {
    "wise": {"adult": 2.0, "young": 0.5},
    "brave": {"adult": 1.0, "young": 1.0},
    "kind": {"adult": 1.0, "young": 1.0},
    "old": {"adult": 2.0, "young": 0.1},
    "young": {"adult": 0.1, "young": 3.0},
}


@dataclass(frozen=True)
class Vocabulary:
    """The words one setting of the grammar chooses from. Verbs are plural (base) forms."""

    people: tuple[Person, ...]  # subjects and objects, with sex, rank and age
    animals: tuple[Noun, ...]  # pets and prey; ``leaning`` ties them to a rank
    adjectives: tuple[Adjective, ...]  # colours and sizes of animals
    places: tuple[Noun, ...]  # ``leaning`` ties them to a rank
    foods: tuple[Noun, ...]
    food_verbs: tuple[str, ...]  # a person ~ the food
    person_verbs: tuple[str, ...]  # a person ~ a person
    hunt_verbs: tuple[str, ...]  # an animal ~ a person or an animal
    care_verbs: tuple[str, ...]  # a person ~ an animal ("the owl that the queen feeds")
    say_verbs: tuple[str, ...]  # a person ~ "that" + a clause
    states: tuple[Adjective, ...]  # passing: "is hungry"
    traits: tuple[Adjective, ...]  # lasting: "is wise" (weights in TRAIT_WEIGHTS)


FULL = Vocabulary(
    people=PEOPLE,
    animals=ANIMALS + MORE_ANIMALS,
    adjectives=ANIMAL_ADJECTIVES + MORE_ANIMAL_ADJECTIVES,
    places=PLACES + MORE_PLACES,
    foods=FOODS,
    food_verbs=tuple(en.removesuffix("s") for en, _ in FOOD_VERBS),
    person_verbs=("see", "help", "follow", "thank"),
    hunt_verbs=("chase", "follow"),
    care_verbs=("feed", "see", "follow"),
    say_verbs=("say", "think"),
    states=STATES + MORE_STATES,
    traits=TRAITS,
)

_BY_NAME = {w.en: w for w in (*FULL.people, *FULL.animals, *FULL.places, *FULL.foods)}

# One word of each kind the grammar needs: a royal adult man and a common young girl (so that
# "rules" and "works", "he" and "she", and "plays" all occur), and two animals (a hunter needs
# prey). Every other list has one word: the sentences still number in the hundred thousands,
# because every noun phrase also chooses its number and every clause is optional.
SMALL = Vocabulary(
    people=(_BY_NAME["king"], _BY_NAME["girl"]),
    animals=(_BY_NAME["owl"], _BY_NAME["cow"]),
    adjectives=ANIMAL_ADJECTIVES[:1],
    places=(_BY_NAME["castle"],),
    foods=(_BY_NAME["bread"],),
    food_verbs=("eat",),
    person_verbs=("see",),
    hunt_verbs=("chase",),
    care_verbs=("feed",),
    say_verbs=("say",),
    states=STATES[:1],
    traits=TRAITS[:1],
)
