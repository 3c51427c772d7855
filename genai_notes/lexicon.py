"""The little world of the book's synthetic language: its words and their attributes.

Every noun has an English and a Spanish form, and a Spanish grammatical gender (``"m"`` or
``"f"``). People also carry the attributes that later chapters expect an embedding to
discover: sex (``"m"``/``"f"``), rank (``"royal"``/``"common"``) and age (``"adult"``/``"young"``).
Places and pets lean towards one rank, which is how the grammar ties royalty to castles.

>>> [p.en for p in PEOPLE if p.rank == "royal"]
['king', 'queen', 'prince', 'princess']
>>> PEOPLE[1].es, PEOPLE[1].gender
('reina', 'f')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Noun",
    "Person",
    "Adjective",
    "PEOPLE",
    "ANIMALS",
    "FOODS",
    "PLACES",
    "FOOD_VERBS",
    "STATES",
    "TRAITS",
    "ANIMAL_ADJECTIVES",
    "CATEGORIES",
]


@dataclass(frozen=True)
class Noun:
    """A noun with its English form, Spanish form and Spanish grammatical gender.

    ``leaning`` is ``"royal"``, ``"common"`` or ``None`` (neutral): the kind of person it is
    most often found with.
    """

    en: str
    es: str
    gender: str  # Spanish grammatical gender: "m" or "f"
    leaning: str | None = None


@dataclass(frozen=True)
class Person:
    """A person noun. ``gender`` is both the person's sex and the Spanish gender."""

    en: str
    es: str
    gender: str  # "m" or "f"
    rank: str  # "royal" or "common"
    age: str  # "adult" or "young"


@dataclass(frozen=True)
class Adjective:
    """An adjective with its English form and Spanish masculine and feminine forms."""

    en: str
    es_m: str
    es_f: str

    def es(self, gender: str) -> str:
        """The Spanish form agreeing with ``gender`` ("m" or "f")."""
        return self.es_m if gender == "m" else self.es_f


PEOPLE: tuple[Person, ...] = (
    Person("king", "rey", "m", "royal", "adult"),
    Person("queen", "reina", "f", "royal", "adult"),
    Person("prince", "príncipe", "m", "royal", "young"),
    Person("princess", "princesa", "f", "royal", "young"),
    Person("man", "hombre", "m", "common", "adult"),
    Person("woman", "mujer", "f", "common", "adult"),
    Person("boy", "niño", "m", "common", "young"),
    Person("girl", "niña", "f", "common", "young"),
)

ANIMALS: tuple[Noun, ...] = (
    Noun("horse", "caballo", "m", "royal"),
    Noun("owl", "búho", "m", "royal"),
    Noun("dog", "perro", "m"),
    Noun("cat", "gato", "m"),
    Noun("cow", "vaca", "f", "common"),
    Noun("goat", "cabra", "f", "common"),
    Noun("fox", "zorro", "m"),
    Noun("mouse", "ratón", "m"),
)

FOODS: tuple[Noun, ...] = (
    Noun("bread", "pan", "m"),
    Noun("cheese", "queso", "m"),
    Noun("apple", "manzana", "f"),
    Noun("soup", "sopa", "f"),
    Noun("cake", "pastel", "m"),
    Noun("rice", "arroz", "m"),
    Noun("pear", "pera", "f"),
    Noun("egg", "huevo", "m"),
)

PLACES: tuple[Noun, ...] = (
    Noun("castle", "castillo", "m", "royal"),
    Noun("palace", "palacio", "m", "royal"),
    Noun("garden", "jardín", "m"),
    Noun("library", "biblioteca", "f"),
    Noun("village", "pueblo", "m", "common"),
    Noun("market", "mercado", "m", "common"),
    Noun("farm", "granja", "f", "common"),
    Noun("kitchen", "cocina", "f", "common"),
)

# Verbs that take a food object: (English 3rd person, Spanish 3rd person).
FOOD_VERBS: tuple[tuple[str, str], ...] = (
    ("eats", "come"),
    ("cooks", "cocina"),
    ("buys", "compra"),
)

# Passing states: English "is X"; Spanish uses "está X" or, for hunger, "tiene hambre".
STATES: tuple[Adjective, ...] = (
    Adjective("hungry", "tiene hambre", "tiene hambre"),
    Adjective("tired", "está cansado", "está cansada"),
    Adjective("happy", "está feliz", "está feliz"),
)

# Lasting traits: English "is X"; Spanish "es X".
TRAITS: tuple[Adjective, ...] = (
    Adjective("wise", "sabio", "sabia"),
    Adjective("brave", "valiente", "valiente"),
    Adjective("kind", "amable", "amable"),
    Adjective("old", "viejo", "vieja"),
    Adjective("young", "joven", "joven"),
)

ANIMAL_ADJECTIVES: tuple[Adjective, ...] = (
    Adjective("black", "negro", "negra"),
    Adjective("white", "blanco", "blanca"),
    Adjective("small", "pequeño", "pequeña"),
    Adjective("big", "grande", "grande"),
)

# English words grouped by category, for embedding tests and figures.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "royalty": tuple(p.en for p in PEOPLE if p.rank == "royal"),
    "commoners": tuple(p.en for p in PEOPLE if p.rank == "common"),
    "animals": tuple(a.en for a in ANIMALS),
    "food": tuple(f.en for f in FOODS),
    "places": tuple(p.en for p in PLACES),
}
