"""The group coordinator's settings, named after Kafka's broker configs (group.*, offsets.*)."""

from __future__ import annotations

from dataclasses import dataclass

NO_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class GroupConfig:
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1800000
    group_initial_rebalance_delay_ms: int = 0  # Kafka's default is 3000; a dev broker wants speed
    group_max_size: int = NO_LIMIT
    # How long a JoinGroup of a member that never joined before may wait (Kafka: 5 minutes, fixed).
    group_new_member_join_timeout_ms: int = 300000
    offsets_retention_minutes: int = 7 * 24 * 60
    offsets_retention_check_interval_ms: int = 600000
    offset_metadata_max_bytes: int = 4096

    @property
    def offsets_retention_ms(self) -> int:
        return self.offsets_retention_minutes * 60_000
