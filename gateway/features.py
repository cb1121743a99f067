"""Kafka's feature flags (KIP-584): which levels this broker supports and which are finalized.

ApiVersions v3+ reports both; UpdateFeatures changes the finalized levels, checked as Kafka's
controller checks them (FeatureControlManager.updateFeature). Finalized levels are kept in the
broker's state store, so an upgrade or downgrade survives a restart.

A feature is one `Feature(...)` entry in FEATURES: adding one (share.version, ...) is one line.
Levels are what Ottla actually implements, not what Kafka 4.2 ships:

- metadata.version 7-29: IBP_3_3_IV3 (the oldest a KRaft cluster bootstraps at) to IBP_4_2_IV1.
- kraft.version 0-1: one voter, no reconfiguration needed (KIP-853's level 1 is the standalone quorum).
- group.version 0-1: level 1 is the KIP-848 consumer group protocol (ConsumerGroupHeartbeat).
- transaction.version 0-1: level 1 only changes how __transaction_state records are written; level 2
  (KIP-890 part 2: epoch bump per transaction, implicit AddPartitionsToTxn) is NOT implemented, and
  clients switch to it only when 2 is finalized.
- share.version 0-2: level 1 is share groups (KIP-932; clients look for it before they use them),
  level 2 adds their dead-letter topics (KIP-1191, Kafka 4.4). Ottla serves both whatever is finalized.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from wire.errors import ErrorCode

FEATURE_KEY = b"F"  # state store: F <feature name utf-8> -> level:i16; F (empty name) -> epoch:i64
_LEVEL = struct.Struct(">h")
_EPOCH = struct.Struct(">q")

UPGRADE, SAFE_DOWNGRADE, UNSAFE_DOWNGRADE = 1, 2, 3

METADATA_VERSION = "metadata.version"
# metadata.version levels 7..29 and whether each changed the metadata format (MetadataVersion.didMetadataChange):
# a downgrade across a level that changed it is refused.
_METADATA_CHANGED = {7: True, 8: True, 9: False, 10: False, 11: True, 12: False, 13: True, 14: True, 15: True,
                     16: False, 17: True, 18: False, 19: False, 20: False, 21: False, 22: False, 23: True,
                     24: False, 25: False, 26: False, 27: False, 28: False, 29: False}


@dataclass(frozen=True)
class Feature:
    """A finalizable feature and its supported levels."""

    name: str
    min_level: int
    max_level: int
    default_level: int  # finalized on a fresh broker (Kafka bootstraps new clusters at the latest production level)


FEATURES: dict[str, Feature] = {f.name: f for f in [
    Feature(METADATA_VERSION, 7, 29, 29),
    Feature("kraft.version", 0, 1, 1),
    Feature("group.version", 0, 1, 1),
    Feature("transaction.version", 0, 1, 1),
    Feature("share.version", 0, 2, 2),
]}


class FeatureError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode.INVALID_UPDATE_VERSION
        self.message = message


class Features:
    """The finalized feature levels, read from and written through to a put/delete/scan store."""

    def __init__(self, store=None, node_id: int = 1) -> None:
        self._store = store
        self._node_id = node_id
        self.levels = {f.name: f.default_level for f in FEATURES.values()}
        self.epoch = 0
        if store is not None:
            for key, value in store.scan(FEATURE_KEY):
                name = key[len(FEATURE_KEY):].decode("utf-8")
                if not name:
                    self.epoch = _EPOCH.unpack(value)[0]
                elif name in FEATURES:
                    self.levels[name] = _LEVEL.unpack(value)[0]

    def supported(self, api_version: int) -> list[dict]:
        """SupportedFeatureKeys; below ApiVersions v4 features whose minimum is 0 are left out (KAFKA-17492)."""
        return [{"name": f.name, "min_version": f.min_level, "max_version": f.max_level}
                for f in FEATURES.values() if api_version >= 4 or f.min_level != 0]

    def finalized(self) -> list[dict]:
        """FinalizedFeatureKeys: level 0 means "not enabled" and is not listed, as in Kafka."""
        return [{"name": name, "min_version_level": level, "max_version_level": level}
                for name, level in self.levels.items() if level != 0]

    def level(self, name: str) -> int:
        return self.levels.get(name, 0)

    def update(self, updates: list[tuple[str, int, int]], validate_only: bool = False) -> None:
        """Apply (feature, level, upgrade type) updates all together or not at all.

        Raises FeatureError (INVALID_UPDATE_VERSION) with Kafka's message for the first bad update.
        """
        for name, level, upgrade_type in updates:
            self._check(name, level, upgrade_type)
        if validate_only or not updates:
            return
        self.epoch += 1
        for name, level, _ in updates:
            self.levels[name] = level
        if self._store is not None:
            items = [(FEATURE_KEY + name.encode("utf-8"), _LEVEL.pack(level)) for name, level, _ in updates]
            self._store.put_many(items + [(FEATURE_KEY, _EPOCH.pack(self.epoch))])

    def _check(self, name: str, level: int, upgrade_type: int) -> None:
        def invalid(reason: str) -> FeatureError:
            return FeatureError(f"Invalid update version {level} for feature {name}. {reason}")

        if upgrade_type not in (UPGRADE, SAFE_DOWNGRADE, UNSAFE_DOWNGRADE):
            raise invalid("The controller does not support the given upgrade type.")
        current = self.level(name)
        if level < 0:
            raise invalid("A feature version cannot be less than 0.")
        feature = FEATURES.get(name)
        controller = f"Local controller {self._node_id}"
        if feature is None:
            raise invalid(f"{controller} does not support this feature.")
        if not feature.min_level <= level <= feature.max_level:
            span = str(feature.min_level) if feature.min_level == feature.max_level else \
                f"{feature.min_level}-{feature.max_level}"
            raise invalid(f"{controller} only supports versions {span}")
        if level < current and upgrade_type == UPGRADE:
            raise invalid("Can't downgrade the version of this feature without setting the "
                          "upgrade type to either safe or unsafe downgrade.")
        if level > current and upgrade_type != UPGRADE:
            raise invalid("Can't downgrade to a newer version.")
        if name == METADATA_VERSION and level < current \
                and any(_METADATA_CHANGED[v] for v in range(level + 1, current + 1)):
            if upgrade_type == UNSAFE_DOWNGRADE:
                raise FeatureError(f"Invalid metadata.version {level}. Unsafe metadata downgrade is not "
                                   "supported in this version.")
            raise FeatureError(f"Invalid metadata.version {level}. Refusing to perform the requested downgrade "
                               "because it might delete metadata information.")
