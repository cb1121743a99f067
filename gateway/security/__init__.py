"""Security: authentication (gateway.listeners, SASL) and authorization (authorizer, acls)."""
