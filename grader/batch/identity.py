"""Who owns an id: one rule for report file names, the gradebook, the summary and the exports.

A submission's id is its file, folder or LMS name ("its own id") unless its answers file claims
another with `student_id`. Ids are compared case-folded (after NFKC), so `ALICE`, `alice` and
`ａｌｉｃｅ` are one id. When several submissions share an id:

- the one whose own id it is owns it: its report is `<id>.json` and the exports write its score;
  a claim never takes the id from the submission it names, whatever the order of grading;
- when none of them, or several, have it as their own id, the id is *contested*: the first by
  path still gets `<id>.json`, but no export writes any of their scores;
- every other one gets `<id>--<digest of its path>.json`;
- every report of the group carries a warning naming the others, and the gradebook, the summary
  and the exports flag them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from grader.core.report import Report

DUPLICATE = "another submission also has the id"  # every warning this module writes starts so


def identity_key(submission_id: str) -> str:
    """What two ids must share to be one id: the case-folded NFKC form, without outer spaces."""
    return unicodedata.normalize("NFKC", submission_id).casefold().strip()


@dataclass(frozen=True)
class Claimant:
    key: str  # where the submission was found (the batch key): unique
    id: str  # the id its report carries
    own_id: str | None  # the id its file or LMS name gives it; None when unknown


@dataclass(frozen=True)
class Standing:
    owner: bool  # holds the id: its report gets the plain name, exports write its score
    contested: bool  # no single submission has the id as its own: exports write none of them
    others: tuple[str, ...]  # the keys of the other submissions with the same id
    owner_key: str | None = None  # who owns it (when others share it)

    @property
    def shared(self) -> bool:
        return bool(self.others)

    @property
    def exportable(self) -> bool:
        return self.owner and not self.contested

    def note(self) -> str:
        """The flag the gradebook, summary and exports show; empty when the id is not shared."""
        if not self.others:
            return ""
        also = ", ".join(self.others)
        if self.contested:
            return f"duplicate id (contested): also {also}; no export writes it"
        if self.owner:
            return f"duplicate id: also claimed by {also}"
        return f"duplicate id: claims the id of {self.owner_key}; not that student's grade"


def claimant(report: Report) -> Claimant:
    source = report.source
    if source is None:
        return Claimant(key=report.submission, id=report.submission, own_id=report.submission)
    return Claimant(key=source.path, id=report.submission, own_id=source.default_id)


def settle(claimants: list[Claimant]) -> list[Standing]:
    """Each claimant's standing, in the order given; depends only on the set of claimants, never
    on their order."""
    groups: dict[str, list[int]] = {}
    for index in sorted(range(len(claimants)), key=lambda i: claimants[i].key):
        groups.setdefault(identity_key(claimants[index].id), []).append(index)
    standings: list[Standing | None] = [None] * len(claimants)
    for identity, members in groups.items():
        own = [i for i in members if _is_own(claimants[i], identity)]
        owner = own[0] if len(own) == 1 else members[0]
        contested = len(members) > 1 and len(own) != 1
        for index in members:
            others = tuple(claimants[i].key for i in members if i != index)
            standings[index] = Standing(owner=index == owner, contested=contested, others=others,
                                        owner_key=claimants[owner].key if others else None)
    return [s for s in standings if s is not None]


def _is_own(item: Claimant, identity: str) -> bool:
    return item.own_id is not None and identity_key(item.own_id) == identity


def is_own(report: Report) -> bool:
    """The report's id is the submission's own name (not a `student_id` claim)."""
    item = claimant(report)
    return _is_own(item, identity_key(item.id))


def standings_of(reports: list[Report]) -> list[Standing]:
    """The standing of each report, in the order given."""
    return settle([claimant(r) for r in reports])


def report_stem(base: str, key: str, standing: Standing) -> str:
    """The report's file name without `.json`: `base` for the owner, else a suffix from its key."""
    return base if standing.owner else f"{base}--{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def duplicate_warning(submission_id: str, standing: Standing, file_name: str) -> str | None:
    """The warning a report of a shared id carries (None when the id is its alone)."""
    if not standing.others:
        return None
    also = ", ".join(standing.others)
    if standing.owner and not standing.contested:
        role = "the id is this submission's own name, so it keeps it"
    elif standing.contested:
        role = "no single one has it as its own name, so no export writes their scores"
    else:
        role = f"the id belongs to {standing.owner_key}"
    return f"{DUPLICATE} {submission_id!r} ({also}): {role}; this report is {file_name}"
