"""The loyalty connector: bonus data in from the loyalty system, smartcomm's own points, accrual requests
sent out to the loyalty system through the signed webhook."""
