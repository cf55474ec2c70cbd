"""Work done outside a request: the reminder sweep and its ledger, mail, the RQ job functions."""
