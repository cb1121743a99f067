"""Client quotas enforced as Kafka's ClientQuotaManager does: rates over sampled windows (rate.py),
the quota of a (user, client-id) resolved with Kafka's precedence, and throttle times (manager.py);
the request pipeline applies them (throttle_time_ms in the response, the channel muted, KIP-219).
"""
