"""The send ledger, the communication-policy gate, the dispatcher and the transactional API's service."""
