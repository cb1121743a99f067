"""Share sessions (KIP-932): the partitions a member fetches, kept between its ShareFetch requests.

Keyed by (group id, member id). Epoch 0 opens a session (replacing any), -1 closes it, any other epoch
must be the one the session expects next (INVALID_SHARE_SESSION_EPOCH), on a session that exists
(SHARE_SESSION_NOT_FOUND); each accepted request moves the expected epoch on by one.
`group.share.max.share.sessions` bounds how many there are (SHARE_SESSION_LIMIT_REACHED).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wire.errors import ErrorCode, KafkaError

INITIAL_EPOCH = 0
FINAL_EPOCH = -1
MAX_SHARE_SESSIONS = 2000  # group.share.max.share.sessions

TopicPartition = tuple[bytes, int]  # (topic id, partition)


@dataclass(slots=True)
class ShareSession:
    group_id: str
    member_id: str
    epoch: int = 1  # the epoch the next request must carry
    partitions: dict[TopicPartition, None] = field(default_factory=dict)  # insertion-ordered set


def next_epoch(epoch: int) -> int:
    return 1 if epoch >= 2**31 - 1 else epoch + 1


class ShareSessionCache:
    def __init__(self, max_sessions=MAX_SHARE_SESSIONS) -> None:
        self._max_sessions = max_sessions  # an int, or a callable read each time (the broker's live config)
        self.sessions: dict[tuple[str, str], ShareSession] = {}

    @property
    def max_sessions(self) -> int:
        return self._max_sessions() if callable(self._max_sessions) else self._max_sessions

    def get(self, group_id: str, member_id: str) -> ShareSession | None:
        return self.sessions.get((group_id, member_id))

    def open(self, group_id: str, member_id: str, partitions: Iterable[TopicPartition]) -> ShareSession:
        key = (group_id, member_id)
        if key not in self.sessions and len(self.sessions) >= self.max_sessions:
            raise KafkaError(ErrorCode.SHARE_SESSION_LIMIT_REACHED,
                             "The limit of share sessions has been reached.")
        session = self.sessions[key] = ShareSession(group_id, member_id, partitions=dict.fromkeys(partitions))
        return session

    def continue_session(self, group_id: str, member_id: str, epoch: int) -> ShareSession:
        """The session a request with this epoch (> 0, or -1 to close) continues; raises the session errors."""
        session = self.sessions.get((group_id, member_id))
        if session is None:
            raise KafkaError(ErrorCode.SHARE_SESSION_NOT_FOUND, f"Share session for member {member_id} of "
                                                                f"group {group_id} not found.")
        if epoch == FINAL_EPOCH:
            del self.sessions[(group_id, member_id)]
            return session
        if epoch != session.epoch:
            raise KafkaError(ErrorCode.INVALID_SHARE_SESSION_EPOCH,
                             f"The share session epoch {epoch} is not the expected epoch {session.epoch}.")
        session.epoch = next_epoch(session.epoch)
        return session

    def remove_member(self, group_id: str, member_id: str) -> None:
        self.sessions.pop((group_id, member_id), None)

    def remove_group(self, group_id: str) -> None:
        for key in [k for k in self.sessions if k[0] == group_id]:
            del self.sessions[key]
