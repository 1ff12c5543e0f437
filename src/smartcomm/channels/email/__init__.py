"""E-mail over SMTP: MIME from pre-built parts, DKIM, one connection per batch."""
