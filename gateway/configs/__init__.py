"""Broker, topic-default, group and client-metrics configs: Kafka's definitions, the dynamic store and
the DescribeConfigs/AlterConfigs logic. See store.py for the read API other packages call."""

from gateway.configs.store import DynamicConfigs, ResourceType

__all__ = ["DynamicConfigs", "ResourceType"]
