"""`kubectl_complete-dtk`: answers kubectl's completion requests for `kubectl dtk`.

kubectl (1.26 and later, Kubernetes PR 105867) completes a plugin's arguments by running an
executable named `kubectl_complete-<plugin>` from PATH: for `kubectl dtk task-status sp<TAB>` it
runs `kubectl_complete-dtk task-status sp` and reads cobra's `__complete` answer, one candidate a
line (`value<TAB>description`), then `:<directive>`. (A leading `__complete` word, as cobra's own
scripts pass it, is accepted too.) Command names and flags come from the plugin's own parsers;
object names from the cluster, through the same kubeconfig, context and namespace flags as the
command, each request with a short deadline. Errors print nothing but the directive: whatever a
completion prints, the shell offers as a candidate.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kubectl_dtk.completion.answer import NO_FILES, Answer
from kubectl_dtk.completion.words import complete


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["__complete"]:
        words = words[1:]
    words = words or [""]
    try:
        answer = complete(words[:-1], words[-1])
    except Exception:  # an unreachable cluster, a bad kubeconfig, an odd answer: no candidates, no noise
        answer = Answer((), NO_FILES)
    sys.stdout.write(answer.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
