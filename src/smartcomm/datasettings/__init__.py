"""Data settings: fields, dictionaries, mailing categories, classifiers, event sources and containers."""
