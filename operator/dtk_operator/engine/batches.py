"""Launch batches, decided before anything is launched (SPEC section 11: batched creation).

At the start of a creation stage the members of each group still without a creation record are
cut, in launch (row) order, into batches of at most BATCH_SIZE; each batch gets one token and
each member its launch index in it. These records are written to the instance's status before
any machine is asked for, so a restarted operator rebuilds the very same batches from the
status alone and the target can name each machine of a batch by its launch index. A single
node is a batch of one. A node that already has a token keeps it (and its index): it was
recorded by an earlier life, and its machine may exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from dtk_operator.targets.base import NodeFacts

# Instances per RunInstances. EC2 itself takes more per call, but a batch fails as a whole
# (capacity, quota) and its members wait for the slowest: 50 keeps a 500-member group at 10
# calls while one refusal costs at most 50 rows.
BATCH_SIZE = 50


def group_of(node: str) -> str:
    return node.rpartition(":")[0]


def plan_batches(nodes: Sequence[str], known: Mapping[str, NodeFacts], new_token: Callable[[], str],
                 *, size: int = BATCH_SIZE) -> list[NodeFacts]:
    """`creating` records for the nodes to create that have no token yet, in batches."""
    fresh: defaultdict[str, list[str]] = defaultdict(list)
    records: list[NodeFacts] = []
    for name in nodes:
        facts = known.get(name)
        if facts is not None and facts.token:
            continue
        if group_of(name):
            fresh[group_of(name)].append(name)
        else:
            records.append(NodeFacts(name=name, state="creating", token=new_token(), launch_index=0))
    for group, members in fresh.items():
        for start in range(0, len(members), size):
            token = new_token()
            records += [NodeFacts(name=name, group=group, state="creating", token=token, launch_index=index)
                        for index, name in enumerate(members[start:start + size])]
    return records


def batches_of(known: Mapping[str, NodeFacts]) -> dict[str, tuple[str, ...]]:
    """Token -> its members in launch-index order, as recorded (a record without an index, from
    an operator before batches, is a batch of one and is left out)."""
    found: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for facts in known.values():
        if facts.token and facts.launch_index is not None:
            found[facts.token].append((facts.launch_index, facts.name))
    return {token: tuple(name for _, name in sorted(members)) for token, members in found.items()}
