"""The search phase's data: a million messages in 100 groups, made the same way every run.

Words follow Zipf's law over a vocabulary of 50,000 (a few hundred common English words first,
then made-up ones), as words in a language do: a handful in a large share of messages, most in
very few. Each group also has words of its own topic (a word of group k is common there and
nowhere else), so that some common words are common only in groups the searcher is not in.
Messages are 3 to 12 words, by 400 people, each group with 40 of them; the searcher is one of
them in 10 groups. Loaded straight into a database migrated to just before search (0009), rows
as DiscussIt stores them (text and its HTML), so that the search migration's back-fill is timed
too.
"""

from __future__ import annotations

import html
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from discussit.timeline.formatting import RENDER_VERSION

COMMON_TEXT = """\
the be to of and a in that have i it for not on with he as you do at this but his by from they
we say her she or an will my one all would there their what so up out if about who get which go
me when make can like time no just him know take people into year your good some could them see
other than then now look only come its over think also back after use two how our work first
well way even new want because any these give day most us deploy build release server review
merge branch test bug fix issue ticket meeting lunch coffee team plan design docs api database
cache queue login page button mobile client customer launch sprint standup demo question answer
thanks ok yes sure maybe later today tomorrow yesterday morning night week update status
deadline budget report email call chat link file image video ready done blocked waiting working
busy
"""
SYLLABLES = "ka ri to ne mu sa lo vi de pa ju ko te ma zu fi ra no bo le si gu ta ne"
VOCABULARY_SIZE = 50_000
ZIPF = 1.07
GROUPS = 100
PEOPLE = 400
MEMBERS_PER_GROUP = 40
SEARCHER_GROUPS = 10
TOPIC_WORDS = 10  # per group, each in about 5 % of that group's messages
SEARCHER = "searcher"


def vocabulary(rng: random.Random) -> list[str]:
    words = list(dict.fromkeys(COMMON_TEXT.split()))
    syllables = SYLLABLES.split()
    seen = set(words)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass(frozen=True)
class Data:
    """Who and where: groups, people, memberships; `messages()` then yields every message."""

    seed: int
    count: int
    groups: list[tuple[uuid.UUID, str]]
    people: list[str]  # people[0] is the searcher
    members: dict[int, list[int]]  # group index -> indices of people
    searcher_groups: list[int]  # group indices
    topics: list[list[str]]  # group index -> its topic words
    words: list[str]
    weights: list[float]  # cumulative

    def messages(self) -> Iterator[tuple[int, int, int, str, datetime]]:
        """(group index, seq, author index, text, time), in the order they were posted."""
        rng = random.Random(self.seed + 1)
        seqs = [0] * GROUPS
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for number in range(self.count):
            group = rng.randrange(GROUPS)
            seqs[group] += 1
            length = rng.randint(3, 12)
            words = rng.choices(self.words, cum_weights=self.weights, k=length)
            if rng.random() < TOPIC_WORDS * 0.05:  # each topic word in ~5 % of the messages
                words[rng.randrange(length)] = rng.choice(self.topics[group])
            author = rng.choice(self.members[group])
            yield group, seqs[group], author, " ".join(words), start + timedelta(seconds=number)


def make(count: int = 1_000_000, seed: int = 15) -> Data:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) ** ZIPF for rank in range(len(words))))
    groups = [(uuid.UUID(int=rng.getrandbits(128)), f"Group {k:03d}") for k in range(GROUPS)]
    people = [SEARCHER] + [f"person{k:03d}" for k in range(1, PEOPLE)]
    searcher_groups = sorted(rng.sample(range(GROUPS), SEARCHER_GROUPS))
    members = {}
    for k in range(GROUPS):
        chosen = rng.sample(range(1, PEOPLE), MEMBERS_PER_GROUP - (k in searcher_groups))
        members[k] = ([0] if k in searcher_groups else []) + chosen
    # Topic words: made-up words of their own, not in the shared vocabulary.
    topics = [[f"topic{k:03d}x{j:02d}" for j in range(TOPIC_WORDS)] for k in range(GROUPS)]
    return Data(seed, count, groups, people, members, searcher_groups, topics, words, weights)


def body_html(text: str) -> str:
    """What timeline/formatting.py makes of a line of plain words."""
    return f"<p>{html.escape(text)}</p>"


RENDERED = RENDER_VERSION
