"""What the model knows about each of its words: where it comes from and how much to trust it.

A word can rest on two kinds of evidence (DESIGN.md section 3):

- ``safe``: SAFE-DB settings, many people's 5-band EQs saved with the word (``safe_rows`` training
  rows from ``safe_users`` people);
- ``socialeq``: the SocialEQ/Audealize crowd, one agreed 40-band curve taught by ``contributors``
  people, with the authors' ``agreement`` score.

``people`` counts the independent people behind a word (SAFE users plus crowd contributors), and
``certainty`` turns it into the three levels the panel, ``semeq-live terms`` and the map show. A word
with few people behind it still decodes to a faithful EQ of what they meant; it is marked because
another group of people might mean something else by it.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_SAFE = "safe"
SOURCE_CROWD = "socialeq"
SOURCES = (SOURCE_SAFE, SOURCE_CROWD)

# Certainty levels by the number of independent people behind a word. Five is the fewest
# contributors a crowd word needs to be in the vocabulary at all; 15 or more is where the crowd's
# agreement scores level off.
CERTAINTY_HIGH_PEOPLE = 15
CERTAINTY_MEDIUM_PEOPLE = 8
CERTAINTY_LEVELS = ("high", "medium", "low")
CERTAINTY_MARK = {"high": "", "medium": "?", "low": "??"}


@dataclass(frozen=True)
class TermInfo:
    """One word of the model's vocabulary and the evidence behind it."""

    name: str
    sources: tuple[str, ...]  # subset of SOURCES, in that order
    safe_rows: int = 0  # SAFE training rows behind the centroid (0: not a SAFE word)
    safe_users: int = 0  # distinct SAFE users among them
    contributors: int = 0  # crowd contributors (0: not a crowd word)
    agreement: float | None = None  # crowd agreement score (None: not a crowd word)
    # The source whose data the centroid follows (of ``sources``; '' = not recorded). A word both
    # sources know follows SAFE where SAFE has enough settings of it (warm, bright), else the crowd.
    lead: str = ""

    @property
    def people(self) -> int:
        return self.safe_users + self.contributors

    @property
    def certainty(self) -> str:
        if self.people >= CERTAINTY_HIGH_PEOPLE:
            return "high"
        if self.people >= CERTAINTY_MEDIUM_PEOPLE:
            return "medium"
        return "low"

    @property
    def mark(self) -> str:
        """A short suffix for tight displays: '' (high), '?' (medium) or '??' (low certainty)."""
        return CERTAINTY_MARK[self.certainty]

    @property
    def source_label(self) -> str:
        return "+".join(self.sources)

    def to_dict(self) -> dict:
        return {"term": self.name, "sources": list(self.sources), "safe_rows": self.safe_rows,
                "safe_users": self.safe_users, "contributors": self.contributors,
                "agreement": None if self.agreement is None else round(float(self.agreement), 4),
                "people": self.people, "certainty": self.certainty, "lead": self.lead}
