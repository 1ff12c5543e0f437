"""Field definitions (system and custom) and the validation of custom field values."""
