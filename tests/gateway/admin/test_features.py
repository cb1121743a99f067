"""Feature flags: what ApiVersions reports and how UpdateFeatures changes it (Kafka's rules and messages)."""

import pytest

from gateway.features import FEATURES
from partitions.memory import MemoryStorage
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode

API_VERSIONS, UPDATE_FEATURES = 18, 57
PREFIX = "The update failed for all features since the following feature had an error: "


def features(broker, version=4):
    response = call(broker, API_VERSIONS, version, {"client_software_name": "t", "client_software_version": "1"})
    supported = {f.name: (f.min_version, f.max_version) for f in response.supported_features}
    finalized = {f.name: (f.min_version_level, f.max_version_level) for f in response.finalized_features}
    return supported, finalized, response.finalized_features_epoch


def update(broker, *updates, version=2, validate_only=False):
    body = {"timeout_ms": 1000, "validate_only": validate_only, "feature_updates": [
        {"feature": name, "max_version_level": level, "upgrade_type": kind, "allow_downgrade": kind != 1}
        for name, level, kind in updates]}
    return call(broker, UPDATE_FEATURES, version, body)


def test_api_versions_reports_what_is_implemented():
    supported, finalized, epoch = features(new_broker())
    assert supported["metadata.version"] == (7, 29)  # IBP_3_3_IV3 .. IBP_4_2_IV1
    assert supported["group.version"] == (0, 1) and finalized["group.version"] == (1, 1)
    assert supported["transaction.version"][1] < 2  # KIP-890 part 2 is not implemented: never advertise it
    assert finalized["metadata.version"] == (29, 29) and epoch >= 0
    assert set(supported) == set(FEATURES)


def test_api_versions_v3_omits_features_whose_minimum_is_zero():
    supported, _, _ = features(new_broker(), version=3)
    assert set(supported) == {"metadata.version"}  # KAFKA-17492: old clients cannot read a minimum of 0


def test_downgrade_needs_a_downgrade_type_and_is_kept_across_restart():
    storage = MemoryStorage()
    broker = new_broker(storage)
    refused = update(broker, ("group.version", 0, 1))
    assert refused.error_code == ErrorCode.INVALID_UPDATE_VERSION
    assert refused.error_message == PREFIX + (
        "Invalid update version 0 for feature group.version. Can't downgrade the version of this feature "
        "without setting the upgrade type to either safe or unsafe downgrade.")
    assert update(broker, ("group.version", 0, 2)).error_code == ErrorCode.NONE
    _, finalized, epoch = features(broker)
    assert "group.version" not in finalized  # level 0 is not finalized
    _, finalized, again = features(new_broker(storage))
    assert "group.version" not in finalized and again == epoch
    assert update(new_broker(storage), ("group.version", 1, 1)).error_code == ErrorCode.NONE


@pytest.mark.parametrize("name, level, kind, message", [
    ("group.version", 5, 1, "Invalid update version 5 for feature group.version. Local controller 1 only "
                            "supports versions 0-1"),
    ("no.such.version", 1, 1, "Invalid update version 1 for feature no.such.version. Local controller 1 does "
                              "not support this feature."),
    ("group.version", -1, 2, "Invalid update version -1 for feature group.version. A feature version cannot "
                             "be less than 0."),
    ("group.version", 1, 7, "Invalid update version 1 for feature group.version. The controller does not "
                            "support the given upgrade type."),
    ("metadata.version", 7, 2, "Invalid metadata.version 7. Refusing to perform the requested downgrade "
                               "because it might delete metadata information."),
    ("metadata.version", 22, 3, "Invalid metadata.version 22. Unsafe metadata downgrade is not supported in "
                                "this version."),
])
def test_bad_updates_change_nothing(name, level, kind, message):
    broker = new_broker()
    before = features(broker)
    response = update(broker, ("transaction.version", 0, 2), (name, level, kind))
    assert (response.error_code, response.error_message) == (ErrorCode.INVALID_UPDATE_VERSION, PREFIX + message)
    assert features(broker) == before


def test_validate_only_and_per_feature_results_up_to_v1():
    broker = new_broker()
    checked = update(broker, ("metadata.version", 25, 2), version=1, validate_only=True)
    assert checked.error_code == ErrorCode.NONE
    assert [(r.feature, r.error_code) for r in checked.results] == [("metadata.version", ErrorCode.NONE)]
    assert features(broker)[1]["metadata.version"] == (29, 29)
    assert update(broker, ("metadata.version", 25, 2)).error_code == ErrorCode.NONE  # no metadata change in 26-29
    assert features(broker)[1]["metadata.version"] == (25, 25)


def test_v0_allow_downgrade_is_a_safe_downgrade():
    broker = new_broker()
    assert update(broker, ("transaction.version", 0, 2), version=0).error_code == ErrorCode.NONE
    assert "transaction.version" not in features(broker)[1]


def test_api_versions_v5_checks_the_cluster_and_node_the_client_means():
    broker = new_broker()
    body = {"client_software_name": "t", "client_software_version": "1"}
    right = call(broker, API_VERSIONS, 5, {**body, "cluster_id": broker.cluster_id, "node_id": broker.node_id})
    assert right.error_code == ErrorCode.NONE and right.api_keys
    assert call(broker, API_VERSIONS, 5, body).error_code == ErrorCode.NONE  # nothing named: nothing checked
    for wrong in ({"cluster_id": "another-cluster"}, {"cluster_id": broker.cluster_id, "node_id": broker.node_id + 1}):
        refused = call(broker, API_VERSIONS, 5, {**body, **wrong})
        assert (refused.error_code, list(refused.api_keys)) == (ErrorCode.REBOOTSTRAP_REQUIRED, [])
