"""The cleaner pass (gateway/log_maintenance.py) looks only at compacted topics' partitions."""

import asyncio

from gateway import log_maintenance
from gateway.log_maintenance import LogMaintenance
from tests.gateway.inprocess import new_broker


def test_the_cleaner_pass_plans_only_compacted_topics(monkeypatch):
    broker = new_broker()
    broker.logs.create_topic("plain", 300)
    broker.logs.create_topic("compacted", 3, {"cleanup.policy": "compact"})
    broker.logs.create_topic("both", 2, {"cleanup.policy": "compact,delete"})
    planned = []
    real_plan = log_maintenance.plan

    def counting_plan(partition, now, horizon_due=False):
        planned.append((partition.topic.name, partition.index))
        return real_plan(partition, now, horizon_due=horizon_due)

    monkeypatch.setattr(log_maintenance, "plan", counting_plan)
    asyncio.run(LogMaintenance(broker).cleaner_pass())
    assert sorted(planned) == [("both", 0), ("both", 1), ("compacted", 0), ("compacted", 1), ("compacted", 2)]
