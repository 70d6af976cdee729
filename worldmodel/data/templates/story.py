"""Composing word-problem narratives: people, things, verbs, sentence forms and a `Scene`.

A word problem (`word_problems`) is told by a `Scene`: it picks a person, a thing and a tense,
renders sentence forms such as ``"{name} {sell} {n} of {his} {things}."`` with the verbs
conjugated for the tense and the sentence's subject, and records, next to every sentence, the
line of code and the piece of reasoning it stands for. Wording varies at every level: which
form of each sentence, past or present tense, a name or a role ("a baker", "the baker"), the
narrator "I", extra context sentences and where they go.

Every sentence form belongs to a `Forms` bank with training forms and held-out forms. A scene
made for the template's held-out phrasing (`Values.phrasing`) writes only held-out forms, so
the test split's phrasing hold-out asks questions whose sentences no training example uses.

This module composes text and code; it does not decide what a problem asks (see
`word_problems`) and never runs code.
"""

from __future__ import annotations

import keyword
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from worldmodel.data.templates.base import Values


@dataclass(frozen=True)
class Person:
    """Someone a story is about, with the words that refer to them."""

    first: str
    """How the first mention reads ("Ana", "a baker", "I")."""
    later: str
    """How later mentions read ("Ana", "the baker", "I")."""
    he: str
    him: str
    his: str
    third: bool = True
    """Third person singular (False for the narrator "I")."""

    @property
    def var(self) -> str:
        """A Python name for this person ("ana", "baker", "my")."""
        word = self.later.split()[-1].lower()
        return "my" if word == "i" else word

    def possessive(self, mention: str) -> str:
        return "my" if mention == "I" else f"{mention}'s"


NARRATOR = Person("I", "I", "I", "me", "my", third=False)
YOU = Person("you", "you", "you", "you", "your", third=False)
"""How the prose answer refers to the narrator."""

_WOMEN = (
    "Ana", "Maria", "Priya", "Emma", "Sofia", "Aisha", "Mei", "Olivia", "Fatima", "Hannah",
    "Yuki", "Zoe", "Lucia", "Grace", "Amara", "Nina", "Chloe", "Leila", "Rosa", "Ingrid",
    "Keiko", "Tara", "Elena", "Noor",
)  # fmt: skip
_MEN = (
    "Omar", "Liam", "Noah", "Carlos", "Kenji", "Ethan", "Ravi", "Mateo", "Samuel", "Hugo",
    "Tariq", "Jamal", "Lucas", "Ivan", "Daniel", "Kwame", "Leo", "Arjun", "Felix", "Diego",
    "Wei", "Bruno", "Yusuf", "Tom",
)  # fmt: skip
PEOPLE = tuple(Person(n, n, "she", "her", "her") for n in _WOMEN) + tuple(
    Person(n, n, "he", "him", "his") for n in _MEN
)
NAMES = tuple(p.first for p in PEOPLE)
_BY_NAME = {p.first: p for p in PEOPLE}


def role(noun: str, he: str) -> Person:
    """A person named by their job: "a baker" first, "the baker" after."""
    him, his = ("her", "her") if he == "she" else ("him", "his")
    article = "an" if noun[0] in "aeiou" else "a"
    return Person(f"{article} {noun}", f"the {noun}", he, him, his)


@dataclass(frozen=True)
class Thing:
    """Something counted: its singular and plural and the kind that picks verbs and places."""

    one: str
    many: str
    kind: str

    @property
    def var(self) -> str:
        return self.many.replace(" ", "_")

    def count(self, n: int | Fraction) -> str:
        """ "1 apple", "12 apples"."""
        return f"{n} {self.one if n == 1 else self.many}"


THINGS = (
    Thing("apple", "apples", "fruit"),
    Thing("orange", "oranges", "fruit"),
    Thing("peach", "peaches", "fruit"),
    Thing("lemon", "lemons", "fruit"),
    Thing("plum", "plums", "fruit"),
    Thing("pear", "pears", "fruit"),
    Thing("strawberry", "strawberries", "fruit"),
    Thing("cookie", "cookies", "baked"),
    Thing("cupcake", "cupcakes", "baked"),
    Thing("muffin", "muffins", "baked"),
    Thing("bagel", "bagels", "baked"),
    Thing("brownie", "brownies", "baked"),
    Thing("pie", "pies", "baked"),
    Thing("marble", "marbles", "toy"),
    Thing("sticker", "stickers", "toy"),
    Thing("baseball card", "baseball cards", "toy"),
    Thing("stamp", "stamps", "toy"),
    Thing("seashell", "seashells", "toy"),
    Thing("toy car", "toy cars", "toy"),
    Thing("bead", "beads", "toy"),
    Thing("pencil", "pencils", "supply"),
    Thing("crayon", "crayons", "supply"),
    Thing("notebook", "notebooks", "supply"),
    Thing("eraser", "erasers", "supply"),
    Thing("marker", "markers", "supply"),
    Thing("balloon", "balloons", "supply"),
    Thing("candle", "candles", "supply"),
    Thing("tulip", "tulips", "garden"),
    Thing("rose", "roses", "garden"),
    Thing("egg", "eggs", "garden"),
    Thing("book", "books", "book"),
    Thing("comic book", "comic books", "book"),
)
_BY_MANY = {t.many: t for t in THINGS}


@dataclass(frozen=True)
class Verb:
    base: str
    past: str
    third: str
    participle: str

    @property
    def var(self) -> str:
        """The participle as a Python name ("given_away", "eaten")."""
        return self.participle.replace(" ", "_")


def _verb(base: str, past: str, participle: str | None = None) -> Verb:
    head, _, rest = base.partition(" ")
    if head == "have":
        third = "has"
    elif head.endswith(("s", "sh", "ch", "x", "o")):
        third = head + "es"
    elif head.endswith("y") and head[-2] not in "aeiou":
        third = head[:-1] + "ies"
    else:
        third = head + "s"
    return Verb(base, past, f"{third} {rest}".strip(), participle or past)


VERBS: dict[str, Verb] = {
    v.base.replace(" ", "_"): v
    for v in (
        _verb("have", "had"),
        _verb("buy", "bought"),
        _verb("find", "found"),
        _verb("get", "got"),
        _verb("receive", "received"),
        _verb("collect", "collected"),
        _verb("pick", "picked"),
        _verb("bake", "baked"),
        _verb("make", "made"),
        _verb("win", "won"),
        _verb("grow", "grew", "grown"),
        _verb("borrow", "borrowed"),
        _verb("sell", "sold"),
        _verb("lose", "lost"),
        _verb("give", "gave", "given"),
        _verb("give away", "gave away", "given away"),
        _verb("eat", "ate", "eaten"),
        _verb("use", "used"),
        _verb("donate", "donated"),
        _verb("trade away", "traded away"),
        _verb("start", "started"),
        _verb("keep", "kept"),
        _verb("hold", "held"),
        _verb("stand", "stood"),
        _verb("go", "went", "gone"),
        _verb("come", "came"),
        _verb("share", "shared"),
        _verb("split", "split"),
        _verb("divide", "divided"),
        _verb("pack", "packed"),
        _verb("put", "put"),
        _verb("cost", "cost"),
        _verb("pay", "paid"),
        _verb("spend", "spent"),
        _verb("earn", "earned"),
        _verb("save", "saved"),
        _verb("read", "read"),
        _verb("drive", "drove", "driven"),
        _verb("walk", "walked"),
        _verb("fill", "filled"),
        _verb("work", "worked"),
        _verb("add", "added"),
        _verb("end", "ended"),
        _verb("belong", "belonged"),
        _verb("love", "loved"),
        _verb("live", "lived"),
        _verb("help", "helped"),
        _verb("want", "wanted"),
        _verb("smell", "smelled"),
        _verb("look", "looked"),
        _verb("plan", "planned"),
        _verb("leave", "left"),
        _verb("rise", "rose", "risen"),
        _verb("drop", "dropped"),
        _verb("set", "set"),
        _verb("arrange", "arranged"),
        _verb("wrap", "wrapped"),
        _verb("run", "ran", "run"),
        _verb("produce", "produced"),
        _verb("type", "typed"),
        _verb("bring", "brought"),
        _verb("charge", "charged"),
        _verb("count", "counted"),
        _verb("shrink", "shrank", "shrunk"),
        _verb("take", "took", "taken"),
        _verb("remain", "remained"),
        _verb("outnumber", "outnumbered"),
        _verb("finish", "finished"),
        _verb("drink", "drank", "drunk"),
        _verb("bear", "bore", "borne"),
        _verb("vote", "voted"),
        _verb("wear", "wore", "worn"),
        _verb("need", "needed"),
        _verb("visit", "visited"),
        _verb("close", "closed"),
        _verb("open", "opened"),
        _verb("weigh", "weighed"),
        _verb("last", "lasted"),
        _verb("travel", "traveled"),
    )
}

GAIN_VERBS = {
    "fruit": ("buy", "pick", "get", "collect"),
    "baked": ("bake", "make", "buy", "get"),
    "toy": ("buy", "find", "win", "get", "collect"),
    "supply": ("buy", "get", "find"),
    "garden": ("buy", "pick", "get", "collect"),
    "book": ("buy", "borrow", "get", "find"),
}
"""Verbs that add to a pile of each kind of thing (their keys in VERBS)."""

LOSS_VERBS = {
    "fruit": ("eat", "sell", "give_away", "use"),
    "baked": ("eat", "sell", "give_away"),
    "toy": ("lose", "give_away", "sell", "trade_away"),
    "supply": ("use", "lose", "give_away", "sell"),
    "garden": ("sell", "give_away", "use"),
    "book": ("donate", "sell", "give_away", "lose"),
}
"""Verbs that take from a pile of each kind of thing."""

PLACES = {
    "fruit": ("basket", "fruit bowl", "crate"),
    "baked": ("kitchen", "shop window", "bakery"),
    "toy": ("shoebox", "collection", "drawer"),
    "supply": ("desk drawer", "school bag", "supply closet"),
    "garden": ("garden shed", "stall", "basket"),
    "book": ("bookshelf", "room", "book bag"),
}

CONTAINERS = {
    "fruit": (("bag", "bags"), ("crate", "crates"), ("basket", "baskets")),
    "baked": (("box", "boxes"), ("tray", "trays"), ("bag", "bags")),
    "toy": (("bag", "bags"), ("box", "boxes"), ("jar", "jars")),
    "supply": (("pack", "packs"), ("box", "boxes"), ("case", "cases")),
    "garden": (("bunch", "bunches"), ("basket", "baskets"), ("carton", "cartons")),
    "book": (("box", "boxes"), ("stack", "stacks"), ("shelf", "shelves")),
}

ROLES = {
    "fruit": (("farmer", "he"), ("fruit seller", "she"), ("grocer", "he")),
    "baked": (("baker", "she"), ("baker", "he"), ("chef", "she")),
    "toy": (("collector", "he"), ("shopkeeper", "she")),
    "supply": (("teacher", "she"), ("teacher", "he"), ("shopkeeper", "he")),
    "garden": (("gardener", "she"), ("farmer", "he"), ("florist", "she")),
    "book": (("librarian", "she"), ("bookseller", "he"), ("teacher", "she")),
}

GROUPS = (
    ("friends", "friend"),
    ("classmates", "classmate"),
    ("cousins", "cousin"),
    ("children", "child"),
    ("neighbors", "neighbor"),
    ("teammates", "teammate"),
)
"""People a pile is shared among: (plural, singular)."""


class Forms:
    """A bank of interchangeable sentence forms: training forms and held-out forms."""

    def __init__(self, train: Sequence[str], held: Sequence[str]) -> None:
        if not train or not held:
            raise ValueError("a bank needs training and held-out forms")
        self.train = tuple(train)
        self.held = tuple(held)


IT = Person("it", "it", "it", "it", "its")
THEY = Person("they", "they", "they", "them", "their", third=False)
_SUBJECTS = {"o": "other", "it": IT, "pl": THEY}
_PERSON_FIRST = re.compile(
    r"^(?:[A-Z][a-z]+(?: [a-z]+)*, )?(?:Then |Later |Also )?\{(?:name|he)\} \{"
)
"""A form whose subject is the main person, e.g. "Then {he} {sell} ..." (see `Scene.joinable`)."""
_PRONOUNS = {"he": "name", "him": "whom", "his": "names"}
"""What a pronoun of the main person becomes in an explicit scene (see `Scene.explicit`)."""
_SENTENCE_START = re.compile(r"(?<=[.!?] )[a-z]")
_BE = {
    ("past", True): "was",
    ("past", False): "were",
    ("present", True): "is",
    ("present", False): "are",
}


def fraction_text(p: int, q: int, rng_choice: bool) -> str:
    """A fraction as a story writes it: "3/4" or in words ("three quarters", "half")."""
    if not rng_choice:
        return f"{p}/{q}"
    ones = {2: "half", 3: "third", 4: "quarter", 5: "fifth", 6: "sixth", 8: "eighth", 10: "tenth"}
    numbers = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 7: "seven", 9: "nine"}
    if p == 1:
        return "half" if q == 2 else f"a {ones[q]}"
    return f"{numbers[p]} {ones[q]}s"


class Scene:
    """One word problem as it is told: sentences, the code they stand for, and the reasoning.

    `say` renders a form. Fields come from the scene (`{name}`, `{he}`, `{his}`, `{things}`;
    `{whom}` is the object form, "me" for the narrator), from keyword arguments, and verbs by
    name, conjugated for the tense and the form's subject: `{sell}` agrees with the main
    person, `{o_sell}` with the other person, `{it_sell}` with a singular thing, `{pl_sell}`
    with a plural one; `{sell_pp}` is the participle. `{be}`, `{does}` (`{pl_does}`...)
    follow the same rules; `{is}` and `{are}` are "was"/"were" in a past story; `{can}` is
    "could". The first mention of a person reads "a baker", later ones "the baker".
    """

    def __init__(self, v: Values, held: bool, *, narrator: bool = True) -> None:
        self.v = v
        self.rng = v.rng
        self.held = held
        self.tense = self.rng.choice(("past", "past", "present"))
        self.thing: Thing = _BY_MANY[v.choice(tuple(_BY_MANY))]
        pool = ROLES[self.thing.kind]
        pick = self.rng.random()
        if pick < 0.15 and narrator and self.tense == "past":
            self.person = NARRATOR
        elif pick < 0.35:
            self.person = role(*self.rng.choice(pool))
        else:
            self.person = _BY_NAME[v.choice(NAMES)]
        self.other: Person = _BY_NAME[v.choice([n for n in NAMES if n != self.person.first])]
        self.mentioned: set[str] = set()
        self.sentences: list[str] = []
        self.code: list[str] = []
        self.think: list[str] = []
        self.names: set[str] = set()
        self.steps = 0
        self.imports: list[str] = []
        self.explicit = False
        """Name the main person instead of "he"/"his" (set once a second person of the same
        kind of story is in it, where a pronoun could mean either)."""
        self.ask_words: dict[str, str] = {}
        """Words the question needs from the last step (who shares, which containers)."""
        self.joinable = False
        """Whether the last sentence is one sentence whose subject is the main person, so a
        clause without a subject ("and sold 5 of them") can continue it."""
        self.unused: list[str] = []
        """Numbers the story states that the answer does not use (distractors)."""

    # --- text -------------------------------------------------------------------------

    def pick(self, bank: Forms) -> str:
        return self.rng.choice(bank.held if self.held else bank.train)

    def _mention(self, person: Person) -> str:
        if person.first in self.mentioned:
            return person.later
        self.mentioned.add(person.first)
        return person.first

    def _subject(self, prefix: str) -> Person:
        subject = _SUBJECTS.get(prefix, self.person)
        return self.other if subject == "other" else subject  # type: ignore[return-value]

    def _field(self, key: str, extra: dict[str, object]) -> str:
        if key in extra:
            return str(extra[key])
        prefix, _, rest = key.partition("_")
        if prefix in _SUBJECTS and rest:
            subject, word = self._subject(prefix), rest
        else:
            subject, word = self.person, key
        if self.explicit and subject is self.person and subject.third and word in _PRONOUNS:
            word = _PRONOUNS[word]
        person_fields = {
            "name": lambda: self._mention(subject),
            "whom": lambda: self._mention(subject) if subject.third else subject.him,
            "names": lambda: subject.possessive(self._mention(subject)),
            "he": lambda: subject.he,
            "him": lambda: subject.him,
            "his": lambda: subject.his,
        }
        if word in person_fields:
            return person_fields[word]()
        if word == "has":
            word = "have"
        if word == "thing":
            return self.thing.one
        if word == "things":
            return self.thing.many
        if word in ("be", "is", "are"):
            third = {"be": subject.third, "is": True, "are": False}[word]
            if word == "be" and subject is NARRATOR and self.tense == "present":
                return "am"
            return _BE[(self.tense, third)]
        if word == "does":
            if self.tense == "past":
                return "did"
            return "does" if subject.third else "do"
        if word == "can":
            return "could" if self.tense == "past" else "can"
        if word.endswith("_pp") and word[:-3] in VERBS:
            return VERBS[word[:-3]].participle
        if word in VERBS:
            verb = VERBS[word]
            if self.tense == "past":
                return verb.past
            return verb.third if subject.third else verb.base
        raise KeyError(key)

    def does(self, subject: str = "pl") -> str:
        """ "did" in a past story, else "does"/"do" for `subject`."""
        return self.verb("does", subject)

    def verb(self, key: str, subject: str = "") -> str:
        """Verb `key` (a VERBS key) conjugated for the tense and `subject` ("", "o", "it", "pl")."""
        return self._field(f"{subject}_{key}" if subject else key, {})

    def say(self, form: str, **extra: object) -> str:
        """`form` with its fields filled, the first letter capitalised."""
        parts = []
        for literal, field, spec, _ in string.Formatter().parse(form):
            parts.append(literal)
            if field is not None:
                value = self._field(field, extra)
                parts.append(format(value, spec) if spec else value)
        text = _SENTENCE_START.sub(lambda m: m.group(0).upper(), "".join(parts))
        return text[:1].upper() + text[1:]

    def tell(self, form: str, **extra: object) -> str:
        """Render `form` and add it to the story as a sentence."""
        sentence = self.say(form, **extra)
        self.sentences.append(sentence)
        self.joinable = bool(_PERSON_FIRST.match(form)) and ". " not in form
        return sentence

    def join_last(self, clause: str, **extra: object) -> None:
        """Continue the last sentence with a clause ("... and sold 3/4 of them.")."""
        text = self.say(clause, **extra)
        last = self.sentences[-1].rstrip(".")
        self.sentences[-1] = f"{last} {text[:1].lower()}{text[1:]}."
        self.joinable = False

    def story(self) -> str:
        return " ".join(self.sentences)

    # --- code and reasoning -----------------------------------------------------------

    def name(self, *candidates: str) -> str:
        """The first candidate not yet used as a variable (else the first with a number)."""
        for candidate in candidates:
            if candidate not in self.names and not keyword.iskeyword(candidate):
                self.names.add(candidate)
                return candidate
        n = 2
        while f"{candidates[0]}_{n}" in self.names:
            n += 1
        self.names.add(f"{candidates[0]}_{n}")
        return f"{candidates[0]}_{n}"

    def let(self, value: int | float | str, *candidates: str) -> str:
        """A variable holding a number the story states; returns its name."""
        name = self.name(*candidates)
        self.code.append(f"{name} = {value}")
        return name

    def calc(self, expression: str, *candidates: str) -> str:
        """A variable computed from earlier ones (one step of the solution)."""
        name = self.name(*candidates)
        self.code.append(f"{name} = {expression}")
        self.steps += 1
        return name

    def note(self, text: str) -> None:
        self.think.append(text)

    def reasoning(self) -> str:
        """The reasoning: the notes joined into one or two sentences."""
        notes = [n for n in self.think if n]
        if len(notes) <= 3:
            text = "; ".join(notes) + "."
        else:
            text = "; ".join(notes[:2]) + ". " + "; ".join(notes[2:]) + "."
            text = ". ".join(part[:1].upper() + part[1:] for part in text.split(". "))
        return text[:1].upper() + text[1:]

    def program(self, show: str) -> str:
        """The imports, the code lines and `print(show)`."""
        head = [f"import {m}" for m in self.imports] + ([""] if self.imports else [])
        return "\n".join([*head, *self.code, f"print({show})"]) + "\n"
