"""Every declared Kafka API by api key: the one registry that codecs, ApiVersions and tests read.

Each module in this package declares one API (or a small family) as `Api` objects. `MODULES` says
which module declares each key; `APIS[key]` imports that module on first use (a broker imports the
declarations of the APIs it is asked for, not all of them), and iterating APIS, len() or .items()
imports every module first. Declaring one api key twice, or in a module MODULES does not name, is an
error (tests/wire/test_messages_table.py).
"""

from __future__ import annotations

import importlib

from wire.lazy import LoadingDict
from wire.schema import Api

# api key -> the module of this package that declares it
MODULES: dict[int, str] = {
    0: "produce",  # Produce
    1: "fetch",  # Fetch
    2: "list_offsets",  # ListOffsets
    3: "metadata",  # Metadata
    8: "offset_commit",  # OffsetCommit
    9: "offset_fetch",  # OffsetFetch
    10: "find_coordinator",  # FindCoordinator
    11: "join_group",  # JoinGroup
    12: "heartbeat",  # Heartbeat
    13: "leave_group",  # LeaveGroup
    14: "sync_group",  # SyncGroup
    15: "describe_groups",  # DescribeGroups
    16: "list_groups",  # ListGroups
    17: "sasl_handshake",  # SaslHandshake
    18: "api_versions",  # ApiVersions
    19: "create_topics",  # CreateTopics
    20: "delete_topics",  # DeleteTopics
    21: "delete_records",  # DeleteRecords
    22: "init_producer_id",  # InitProducerId
    23: "offset_for_leader_epoch",  # OffsetForLeaderEpoch
    24: "add_partitions_to_txn",  # AddPartitionsToTxn
    25: "add_offsets_to_txn",  # AddOffsetsToTxn
    26: "end_txn",  # EndTxn
    28: "txn_offset_commit",  # TxnOffsetCommit
    29: "acls",  # DescribeAcls
    30: "acls",  # CreateAcls
    31: "acls",  # DeleteAcls
    32: "describe_configs",  # DescribeConfigs
    33: "alter_configs",  # AlterConfigs
    34: "alter_replica_log_dirs",  # AlterReplicaLogDirs
    35: "describe_log_dirs",  # DescribeLogDirs
    36: "sasl_authenticate",  # SaslAuthenticate
    37: "create_partitions",  # CreatePartitions
    38: "delegation_tokens",  # CreateDelegationToken
    39: "delegation_tokens",  # RenewDelegationToken
    40: "delegation_tokens",  # ExpireDelegationToken
    41: "delegation_tokens",  # DescribeDelegationToken
    42: "delete_groups",  # DeleteGroups
    43: "elect_leaders",  # ElectLeaders
    44: "incremental_alter_configs",  # IncrementalAlterConfigs
    45: "partition_reassignments",  # AlterPartitionReassignments
    46: "partition_reassignments",  # ListPartitionReassignments
    47: "offset_delete",  # OffsetDelete
    48: "client_quotas",  # DescribeClientQuotas
    49: "client_quotas",  # AlterClientQuotas
    50: "user_scram_credentials",  # DescribeUserScramCredentials
    51: "user_scram_credentials",  # AlterUserScramCredentials
    55: "describe_quorum",  # DescribeQuorum
    57: "update_features",  # UpdateFeatures
    60: "describe_cluster",  # DescribeCluster
    61: "describe_producers",  # DescribeProducers
    65: "describe_transactions",  # DescribeTransactions
    66: "list_transactions",  # ListTransactions
    68: "consumer_group_heartbeat",  # ConsumerGroupHeartbeat
    69: "consumer_group_describe",  # ConsumerGroupDescribe
    71: "telemetry",  # GetTelemetrySubscriptions
    72: "telemetry",  # PushTelemetry
    74: "list_config_resources",  # ListConfigResources
    75: "describe_topic_partitions",  # DescribeTopicPartitions
    76: "share_group_heartbeat",  # ShareGroupHeartbeat
    77: "share_group_heartbeat",  # ShareGroupDescribe
    78: "share_fetch",  # ShareFetch
    79: "share_fetch",  # ShareAcknowledge
    90: "share_group_offsets",  # DescribeShareGroupOffsets
    91: "share_group_offsets",  # AlterShareGroupOffsets
    92: "share_group_offsets",  # DeleteShareGroupOffsets
}


APIS: dict[int, Api] = LoadingDict(MODULES, lambda key: _load(MODULES[key]), lambda: load_all())
_loaded: set[str] = set()


def _load(name: str) -> None:
    if name in _loaded:
        return
    module = importlib.import_module(f"{__name__}.{name}")
    for value in vars(module).values():
        if isinstance(value, Api):
            if MODULES.get(value.key) != name:
                raise ValueError(f"{value.name} (key {value.key}) is declared in wire.messages.{name}, "
                                 f"MODULES says {MODULES.get(value.key)}")
            if dict.__contains__(APIS, value.key) and dict.__getitem__(APIS, value.key) is not value:
                raise ValueError(f"api key {value.key} declared twice")
            dict.__setitem__(APIS, value.key, value)
    _loaded.add(name)


def load_all() -> None:
    """Import every declaration module."""
    for name in sorted(set(MODULES.values())):
        _load(name)
