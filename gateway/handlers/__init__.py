"""The API handlers, one module per API or small family, and the table of what each serves.

`TABLE` is what ApiVersions answers and where `gateway.registry` finds a handler: a key's module is
imported on the first request of that key (its `@handles` registration then checks it agrees with
this table), so a broker imports only the handlers it is asked for. tests/gateway/test_api_table.py
fails when a handler's registration and this table disagree; `python scripts/api_table.py
--handlers-table` prints the table's rows from the registrations.
"""

# api key: (module in this package, advertised min version, served min version, max version)
TABLE: dict[int, tuple[str, int, int, int]] = {
    0: ("produce", 0, 3, 13),  # Produce
    1: ("fetch", 4, 4, 18),  # Fetch
    2: ("list_offsets", 1, 1, 11),  # ListOffsets
    3: ("metadata", 0, 0, 13),  # Metadata
    8: ("group_offsets", 2, 2, 10),  # OffsetCommit
    9: ("group_offsets", 1, 1, 10),  # OffsetFetch
    10: ("find_coordinator", 0, 0, 6),  # FindCoordinator
    11: ("group_membership", 0, 0, 9),  # JoinGroup
    12: ("group_membership", 0, 0, 4),  # Heartbeat
    13: ("group_membership", 0, 0, 5),  # LeaveGroup
    14: ("group_membership", 0, 0, 5),  # SyncGroup
    15: ("group_admin", 0, 0, 6),  # DescribeGroups
    16: ("group_admin", 0, 0, 5),  # ListGroups
    17: ("sasl", 0, 0, 1),  # SaslHandshake
    18: ("api_versions", 0, 0, 5),  # ApiVersions
    19: ("topics", 2, 2, 7),  # CreateTopics
    20: ("topics", 1, 1, 6),  # DeleteTopics
    21: ("delete_records", 0, 0, 2),  # DeleteRecords
    22: ("init_producer_id", 0, 0, 6),  # InitProducerId
    23: ("offset_for_leader_epoch", 2, 2, 4),  # OffsetForLeaderEpoch
    24: ("txn_coordinator", 0, 0, 3),  # AddPartitionsToTxn
    25: ("txn_coordinator", 0, 0, 4),  # AddOffsetsToTxn
    26: ("txn_coordinator", 0, 0, 4),  # EndTxn
    28: ("txn_offset_commit", 0, 0, 5),  # TxnOffsetCommit
    29: ("acls", 1, 1, 3),  # DescribeAcls
    30: ("acls", 1, 1, 3),  # CreateAcls
    31: ("acls", 1, 1, 3),  # DeleteAcls
    32: ("describe_configs", 0, 0, 4),  # DescribeConfigs
    33: ("alter_configs", 0, 0, 2),  # AlterConfigs
    34: ("log_dirs", 1, 1, 2),  # AlterReplicaLogDirs
    35: ("log_dirs", 1, 1, 4),  # DescribeLogDirs
    36: ("sasl", 0, 0, 2),  # SaslAuthenticate
    37: ("create_partitions", 0, 0, 3),  # CreatePartitions
    38: ("delegation_tokens", 1, 1, 3),  # CreateDelegationToken
    39: ("delegation_tokens", 1, 1, 2),  # RenewDelegationToken
    40: ("delegation_tokens", 1, 1, 2),  # ExpireDelegationToken
    41: ("delegation_tokens", 1, 1, 3),  # DescribeDelegationToken
    42: ("group_admin", 0, 0, 3),  # DeleteGroups
    43: ("elect_leaders", 0, 0, 2),  # ElectLeaders
    44: ("alter_configs", 0, 0, 1),  # IncrementalAlterConfigs
    45: ("partition_reassignments", 0, 0, 1),  # AlterPartitionReassignments
    46: ("partition_reassignments", 0, 0, 0),  # ListPartitionReassignments
    47: ("group_offsets", 0, 0, 0),  # OffsetDelete
    48: ("client_quotas", 0, 0, 1),  # DescribeClientQuotas
    49: ("client_quotas", 0, 0, 1),  # AlterClientQuotas
    50: ("scram_credentials", 0, 0, 0),  # DescribeUserScramCredentials
    51: ("scram_credentials", 0, 0, 0),  # AlterUserScramCredentials
    55: ("describe_quorum", 0, 0, 2),  # DescribeQuorum
    57: ("update_features", 0, 0, 2),  # UpdateFeatures
    60: ("describe_cluster", 0, 0, 2),  # DescribeCluster
    61: ("txn_admin", 0, 0, 0),  # DescribeProducers
    65: ("txn_admin", 0, 0, 0),  # DescribeTransactions
    66: ("txn_admin", 0, 0, 2),  # ListTransactions
    68: ("consumer_group", 0, 0, 1),  # ConsumerGroupHeartbeat
    69: ("consumer_group", 0, 0, 1),  # ConsumerGroupDescribe
    71: ("telemetry", 0, 0, 0),  # GetTelemetrySubscriptions
    72: ("telemetry", 0, 0, 0),  # PushTelemetry
    74: ("list_config_resources", 0, 0, 1),  # ListConfigResources
    75: ("describe_topic_partitions", 0, 0, 0),  # DescribeTopicPartitions
    76: ("share_group", 1, 1, 1),  # ShareGroupHeartbeat
    77: ("share_group", 1, 1, 1),  # ShareGroupDescribe
    78: ("share_fetch", 1, 1, 2),  # ShareFetch
    79: ("share_fetch", 1, 1, 2),  # ShareAcknowledge
    90: ("share_group_offsets", 0, 0, 1),  # DescribeShareGroupOffsets
    91: ("share_group_offsets", 0, 0, 0),  # AlterShareGroupOffsets
    92: ("share_group_offsets", 0, 0, 0),  # DeleteShareGroupOffsets
}
