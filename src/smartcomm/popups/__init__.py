"""Pop-ups: queued for a customer (by a campaign action), shown on the site by the tracker's pop-up script."""
